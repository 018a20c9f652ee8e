import { describe, expect, it } from 'vitest';
import { openStream, useStack } from './harness.ts';

describe('BFF on a hub of one S1 unit (20 queries a minute for the whole hub)', () => {
  const hubLog: string[] = [];
  const stack = useStack({
    signIn: true,
    env: { TWINSCOPE_HUB_TIER: 'S1', TWINSCOPE_LIVE_SOURCE: 'polling' },
    emulator: { log: (line) => hubLog.push(line) },
  });
  /** The queries the hub itself saw while `run` ran. */
  const hubQueries = async (run: () => Promise<unknown>) => {
    const before = hubLog.length;
    await run();
    return hubLog.slice(before).filter((line) => line.startsWith('POST /devices/query ')).length;
  };

  it('when the list is opened, then it costs three hub queries once, one when opened again, and scrolling never re-counts', async () => {
    const { browser } = await stack.signedIn('reader');
    const list = (query: string) => browser.request(`${stack.bff.url}/api/devices?${query}`);
    let first: Awaited<ReturnType<typeof list>> | undefined;
    // The page, the total count, the module counts of the page.
    expect(await hubQueries(async () => (first = await list('pageSize=5')))).toBe(3);
    expect(first!.json.totalCount).toBe(12);
    let again: Awaited<ReturnType<typeof list>> | undefined;
    expect(await hubQueries(async () => (again = await list('pageSize=5')))).toBe(1);
    expect(again!.json.totalCount).toBe(12);
    expect(again!.json.items[0].moduleCount).toBe(first!.json.items[0].moduleCount);
    // The next page: its rows and their module counts, no count of the fleet.
    const next = `pageSize=5&continuation=${encodeURIComponent(first!.json.continuation)}`;
    expect(await hubQueries(() => list(next))).toBe(2);
  });

  it('when a Reader loops the list, then they get 429 with Retry-After after their share, and others and the live poller still get theirs', async () => {
    const reader = (await stack.signedIn('reader')).browser;
    let refused: Awaited<ReturnType<typeof reader.request>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const response = await reader.request(`${stack.bff.url}/api/devices?pageSize=5`);
      if (response.status === 429) refused = response;
      else expect(response.status).toBe(200);
    }
    expect(refused).toBeDefined();
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused!.json).toMatchObject({ code: 'throttled' });
    expect(refused!.json.message).toMatch(
      /Your share of the hub's queries is spent: 20 a minute for the whole hub \(S1\)/,
    );

    const operator = await stack.signedIn('operator');
    expect((await operator.browser.request(`${stack.bff.url}/api/devices?pageSize=5`)).status).toBe(
      200,
    );

    // The live poller has its reserve: a change made elsewhere still reaches the page.
    const cookie = `twinscope.sid=${operator.browser.cookies(stack.bff.url).get('twinscope.sid')}`;
    const stream = await openStream(`${stack.bff.url}/api/events`, undefined, { cookie });
    try {
      const { data } = await stream.next((e) => e.event === 'hello');
      const watch = await operator.browser.request(
        `${stack.bff.url}/api/events/${data.streamId}/watch`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': operator.csrfToken },
          body: JSON.stringify({ twins: [{ deviceId: 'berlin-b1-meter-03' }] }),
        },
      );
      expect(watch.status).toBe(204);
      await stack.registry.updateTwin('berlin-b1-meter-03', { tags: { polledOnS1: true } }, '*');
      const event = await stream.next(
        (e) => e.event === 'twin' && e.data.twin.tags.polledOnS1 === true,
        10_000,
      );
      expect(event.data.twin.tags.polledOnS1).toBe(true);
    } finally {
      stream.close();
    }
  });
});
