import { describe, expect, it } from 'vitest';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { Poller } from './poller.ts';

/** A hub that answers queries with twins at a version the test controls, and counts them. */
function fakeHub(version: () => number) {
  const queries: string[] = [];
  const hub = {
    query: async (sql: string) => {
      queries.push(sql);
      const ids = [...sql.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
      return {
        items: ids.map((deviceId) => ({
          deviceId,
          etag: 'e',
          version: version(),
          tags: {},
          properties: { desired: {}, reported: {} },
        })),
      };
    },
  } as unknown as HubAdapter;
  return { hub, queries };
}

const watching = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ deviceId: `d${i}` }));

describe('the throttle-aware poller', () => {
  it('when many twins are watched, then it never spends more queries than its budget and rotates through them', async () => {
    const { hub, queries } = fakeHub(() => 1);
    const poller = new Poller(hub, { queriesPerMinute: 2 });
    let ran = 0;
    // 350 twins: four batches of at most 100 ids.
    for (let i = 0; i < 10; i++) ran += (await poller.round(watching(350))).queries;
    expect(ran).toBe(2);
    expect(queries).toHaveLength(2);
    expect(queries[0]).not.toBe(queries[1]);
    expect(queries.every((q) => (q.match(/'d\d+'/g) ?? []).length <= 100)).toBe(true);
  });

  it('when a watched twin moves to a newer version, then one observation says so; an unchanged twin, or one this BFF just wrote, stays quiet', async () => {
    let version = 1;
    const { hub } = fakeHub(() => version);
    const poller = new Poller(hub, { queriesPerMinute: 600 });
    const first = await poller.round(watching(1));
    expect(first.observations).toEqual([
      { twin: expect.objectContaining({ deviceId: 'd0', version: 1 }), sections: [] },
    ]);
    expect((await poller.round(watching(1))).observations).toEqual([]);
    version = 2;
    // 600 a minute is one query every 100 ms; the first two were the starting allowance.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const moved = await poller.round(watching(1));
    expect(moved.observations.map((o) => o.twin.version)).toEqual([2]);
    // An own write is not news when the poller next finds it.
    version = 3;
    poller.saw({
      deviceId: 'd0',
      etag: 'e',
      version: 3,
      tags: {},
      properties: { desired: {}, reported: {} },
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const afterWrite = await poller.round(watching(1));
    expect(afterWrite.queries).toBe(1);
    expect(afterWrite.observations).toEqual([]);
  });

  it('when the hub refuses a query, then the round says why instead of throwing', async () => {
    const hub = {
      query: async () => {
        throw new Error('IoT Hub throttled the query');
      },
    } as unknown as HubAdapter;
    const round = await new Poller(hub, { queriesPerMinute: 60 }).round(watching(3));
    expect(round).toEqual({ queries: 1, observations: [], error: 'IoT Hub throttled the query' });
  });
});
