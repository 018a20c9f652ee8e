import { hubQuota } from '@twinscope/hub-quotas';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../adapters/store/open-store.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import { createLogger } from '../log.ts';
import { HubBudget } from '../quota/hub-budget.ts';
import { freshPgliteDir } from '../test/pglite-template.ts';
import type { LookHub } from './look.ts';
import { Overview } from './overview.ts';

describe('the overview’s quota bars on several replicas', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const o of opened.reverse()) await o.close();
  });

  it('when two replicas spend the hub’s queries, then either one’s overview shows them together, and a replica that stops is no longer counted', async () => {
    const { db } = await openDatabase({ dir: await freshPgliteDir() });
    opened.push(db);
    const logger = createLogger('error', () => undefined);
    const audit = new AuditTrail(db, logger);
    // A hub that never answers a query: B's first look is still under way when it stops.
    const hub: LookHub = {
      query: () => new Promise(() => undefined),
      listConfigurations: async () => [],
    };
    // Both budget one S1 unit (20 queries a minute) on a clock that does not move, so no
    // token comes back while the test reads.
    const now = () => Date.parse('2026-12-07T12:00:00Z');
    const replica = (replicaId: string) => {
      const budget = new HubBudget(hubQuota('S1'), { now });
      const overview = new Overview(db, hub, audit, budget, logger, {
        replicaId,
        queryShare: 0.2,
        minIntervalSeconds: 60,
        tickMs: 50,
      });
      return { budget, overview };
    };
    const a = replica('replica-a');
    const b = replica('replica-b');
    const spend = (budget: HubBudget, n: number) => {
      for (let i = 0; i < n; i++) expect(budget.take('query', 'background')).toBeUndefined();
    };
    const queriesUsed = async (overview: Overview) => {
      const read = await overview.read();
      return {
        used: Math.round(read.quota!.find((q) => q.kind === 'query')!.used * 1000) / 1000,
        replicas: read.quotaReplicas,
      };
    };

    spend(a.budget, 4);
    spend(b.budget, 8);
    // Alone, each sees its own budget.
    expect(await queriesUsed(a.overview)).toEqual({ used: 0.2, replicas: 1 });
    // Both run: their first looks hang on the hub, yet each writes its use every tick, and
    // each counts the other's: 12 of the hub's 20.
    a.overview.start();
    b.overview.start();
    await expect.poll(() => queriesUsed(a.overview)).toEqual({ used: 0.6, replicas: 2 });
    await expect.poll(() => queriesUsed(b.overview)).toEqual({ used: 0.6, replicas: 2 });
    // Together they may spend more than the hub allows: that is shown, not capped.
    spend(b.budget, 12);
    await expect.poll(() => queriesUsed(a.overview)).toEqual({ used: 1.2, replicas: 2 });

    await b.overview.stop();
    expect(await queriesUsed(a.overview)).toEqual({ used: 0.2, replicas: 1 });
    await a.overview.stop();
  });
});
