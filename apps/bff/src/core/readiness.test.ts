import { afterEach, describe, expect, it, vi } from 'vitest';
import { Readiness } from './readiness.ts';

describe('readiness', () => {
  afterEach(() => vi.useRealTimers());

  it('when a check fails, hangs past 3 s, or the replica drains, then it is not ready and says which and why', async () => {
    vi.useFakeTimers();
    let database: string | undefined = undefined;
    const readiness = new Readiness([
      { name: 'database', check: async () => database },
      { name: 'hub', check: () => new Promise<string | undefined>(() => undefined) },
      {
        name: 'changes',
        check: async () => {
          throw new Error('consumer failed');
        },
      },
    ]);
    const asked = readiness.report();
    await vi.advanceTimersByTimeAsync(3000);
    expect(await asked).toEqual({
      ready: false,
      checks: {
        database: { ready: true },
        hub: { ready: false, reason: 'did not answer within 3 s' },
        changes: { ready: false, reason: 'consumer failed' },
      },
    });
    database = 'connect ECONNREFUSED';
    const again = readiness.report();
    await vi.advanceTimersByTimeAsync(3000);
    expect((await again).checks['database']).toEqual({
      ready: false,
      reason: 'connect ECONNREFUSED',
    });
  });

  it('when every check answers, then it is ready until the replica drains', async () => {
    const readiness = new Readiness([{ name: 'database', check: async () => undefined }]);
    expect(await readiness.report()).toEqual({
      ready: true,
      checks: { database: { ready: true } },
    });
    readiness.drain();
    expect(await readiness.report()).toEqual({
      ready: false,
      checks: {
        database: { ready: true },
        replica: { ready: false, reason: 'stopping (SIGTERM)' },
      },
    });
  });
});
