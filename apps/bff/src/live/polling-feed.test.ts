import { describe, expect, it } from 'vitest';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { createLogger } from '../log.ts';
import type { EventBroker } from './broker.ts';
import { PollingFeed } from './polling-feed.ts';

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

function fakeBroker(watched: number) {
  const published: { type: string; deviceId?: string }[] = [];
  const broker = {
    watchedTwins: () => Array.from({ length: watched }, (_, i) => ({ deviceId: `d${i}` })),
    publish: (event: { type: string; deviceId?: string }) => published.push(event),
  } as unknown as EventBroker;
  return { broker, published };
}

describe('the throttle-aware poller', () => {
  it('when many twins are watched, then it never spends more queries than its budget and rotates through them', async () => {
    const { hub, queries } = fakeHub(() => 1);
    const { broker } = fakeBroker(350); // four batches of at most 100 ids
    const feed = new PollingFeed(
      hub,
      () => broker,
      createLogger('error', () => {}),
      { intervalMs: 1000, queriesPerMinute: 2 },
    );
    let ran = 0;
    for (let i = 0; i < 10; i++) ran += await feed.tick();
    expect(ran).toBe(2);
    expect(queries).toHaveLength(2);
    expect(queries[0]).not.toBe(queries[1]);
    expect(queries.every((q) => (q.match(/'d\d+'/g) ?? []).length <= 100)).toBe(true);
  });

  it('when a watched twin moves to a newer version, then one event says so; an unchanged twin stays quiet', async () => {
    let version = 1;
    const { hub } = fakeHub(() => version);
    const { broker, published } = fakeBroker(1);
    const feed = new PollingFeed(
      hub,
      () => broker,
      createLogger('error', () => {}),
      { intervalMs: 1000, queriesPerMinute: 600 },
    );
    await feed.tick(); // first sight
    await feed.tick(); // nothing changed
    const twinEvents = () => published.filter((e) => e.type === 'twin');
    expect(twinEvents()).toHaveLength(1);
    version = 2;
    // 600 a minute is one query every 100 ms; the first two were the starting allowance.
    await new Promise((resolve) => setTimeout(resolve, 150));
    await feed.tick();
    expect(twinEvents()).toHaveLength(2);
  });
});
