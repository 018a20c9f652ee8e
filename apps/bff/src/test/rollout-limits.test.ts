import { describe, expect, it } from 'vitest';
import type { TestBrowser } from './browser.ts';
import { testPlan } from './fixtures/rollout-plan.ts';
import { useStack } from './harness.ts';

describe('BFF: how many rollouts may be active, and the list a page at a time', () => {
  const stack = useStack({
    signIn: true,
    env: { TWINSCOPE_ROLLOUT_ACTIVE_PER_PERSON: '2', TWINSCOPE_ROLLOUT_ACTIVE_MAX: '3' },
  });
  const sessions = new Map<string, { browser: TestBrowser; csrfToken: string }>();
  const call = async (login: string, method: string, path: string, body?: unknown) => {
    let session = sessions.get(login);
    if (!session) sessions.set(login, (session = await stack.signedIn(login)));
    const answer = await session.browser.request(`${stack.bff.url}/api${path}`, {
      method,
      headers: { 'X-CSRF-Token': session.csrfToken, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: answer.status, body: answer.json };
  };
  const start = (login: string, name: string) =>
    call(login, 'POST', '/rollouts', {
      name,
      filter: { prefix: 'berlin' },
      change: { tags: { wave: name } },
      plan: testPlan(),
    });

  it('when a person or the hub has as many active rollouts as allowed, then the next start is refused with the reason and nothing is stored; the list pages newest first', async () => {
    // Nobody drives here: the rollouts stay active (preparing) while the limits are checked.
    await stack.bff.rollouts.stop();
    expect((await start('operator', 'first')).status).toBe(201);
    expect((await start('operator', 'second')).status).toBe(201);
    const theirs = await start('operator', 'third');
    expect(theirs.status).toBe(429);
    expect(theirs.body.message).toBe(
      'You have 2 active rollouts, the most one person may have at once. Wait for one to end, or cancel one, then start this again. Nothing was started.',
    );
    // Someone else may still start one, up to the hub's limit.
    expect((await start('admin', 'fourth')).status).toBe(201);
    const hubs = await start('admin', 'fifth');
    expect(hubs.status).toBe(429);
    expect(hubs.body.message).toMatch(/^This hub has 3 active rollouts, the most Twinscope runs/);
    // A refused start is neither stored nor in the audit trail.
    const created = await stack.bff.audit.search({ kind: 'rollout' }, { limit: 50 });
    expect(created.entries.map((e) => e.change['name'])).toEqual(['fourth', 'second', 'first']);
    // Cancelling one frees a place.
    const first = (await call('reader', 'GET', '/rollouts?limit=50')).body.items.find(
      (r: { name: string }) => r.name === 'first',
    );
    expect((await call('operator', 'POST', `/rollouts/${first.id}/cancel`, {})).status).toBe(200);
    expect((await start('operator', 'third again')).status).toBe(201);

    // Newest first, two at a time, with no rollout twice or left out.
    const page1 = (await call('reader', 'GET', '/rollouts?limit=2')).body;
    expect(page1.items.map((r: { name: string }) => r.name)).toEqual(['third again', 'fourth']);
    expect(page1.next).toEqual(expect.any(String));
    const page2 = (await call('reader', 'GET', `/rollouts?limit=2&before=${page1.next}`)).body;
    expect(page2.items.map((r: { name: string }) => r.name)).toEqual(['second', 'first']);
    expect(page2.next).toBeUndefined();
    const bad = await call('reader', 'GET', '/rollouts?before=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^query parameter before: /);
  });
});
