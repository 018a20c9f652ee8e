import { describe, expect, it } from 'vitest';
import { openStream, send, useStack } from './harness.ts';

describe('BFF live streams with sign-in: what one session may hold and touch', () => {
  const stack = useStack({ signIn: true, env: { TWINSCOPE_STREAMS_PER_SESSION: '5' } });

  it("when a Reader opens more streams than a session may, then the next is 429; another session's stream cannot be steered", async () => {
    const reader = await stack.signedIn('reader');
    const cookie = `twinscope.sid=${reader.browser.cookies(stack.bff.url).get('twinscope.sid')}`;
    const streams = [];
    try {
      for (let i = 0; i < 5; i++) {
        const stream = await openStream(`${stack.bff.url}/api/events`, undefined, { cookie });
        expect(stream.response.status).toBe(200);
        await stream.next((e) => e.event === 'hello');
        streams.push(stream);
      }
      const sixth = await send(`${stack.bff.url}/api/events`, { headers: { cookie } });
      expect(sixth.status).toBe(429);
      expect(JSON.parse(sixth.text).message).toMatch(/already has 5 live streams/);
      expect(sixth.headers.get('retry-after')).toBe('30');

      // The operator learns the reader's stream id somehow; steering it is refused.
      const operator = await stack.signedIn('operator');
      const victim = streams[0]!.events[0]!.data.streamId as string;
      const steer = await operator.browser.request(`${stack.bff.url}/api/events/${victim}/watch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': operator.csrfToken },
        body: JSON.stringify({ twins: [{ deviceId: 'berlin-b1-meter-03' }] }),
      });
      expect(steer.status).toBe(404);
      expect(stack.bff.broker.watchedTwins()).toEqual([]);
      const own = await reader.browser.request(`${stack.bff.url}/api/events/${victim}/watch`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': reader.csrfToken },
        body: JSON.stringify({ twins: [{ deviceId: 'berlin-b1-meter-03' }] }),
      });
      expect(own.status).toBe(204);

      // Closing a tab frees its place.
      streams.pop()!.close();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await openStream(`${stack.bff.url}/api/events`, undefined, { cookie });
      expect(again.response.status).toBe(200);
      streams.push(again);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
