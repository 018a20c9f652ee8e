import { describe, expect, it } from 'vitest';
import { send, useStack } from './harness.ts';

describe("BFF probes: what a platform's load balancer asks", () => {
  const stack = useStack();
  const probe = async (path: string) => {
    const answer = await send(`${stack.bff.url}${path}`);
    return { status: answer.status, body: JSON.parse(answer.text) };
  };

  it(
    'when everything answers, then it is alive and ready; without its event endpoint it is still ready, polling',
    { timeout: 40_000 },
    async () => {
      // (A hub that stops answering: hung-hub.test.ts.)
      expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await probe('/readyz')).toEqual({
        status: 200,
        body: {
          ready: true,
          checks: { database: { ready: true }, hub: { ready: true }, changes: { ready: true } },
        },
      });
      await stack.emulator.events.stopEndpoint();
      try {
        await expect.poll(() => stack.bff.live.feed().source, { timeout: 20_000 }).toBe('polling');
        expect(await probe('/readyz')).toMatchObject({
          status: 200,
          body: { checks: { changes: { ready: true } } },
        });
      } finally {
        await stack.emulator.events.startEndpoint();
      }
    },
  );
});
