import { describe, expect, it } from 'vitest';
import { openDatabase } from '../adapters/store/open-store.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import { createLogger } from '../log.ts';
import { HubBudget } from '../quota/hub-budget.ts';
import { freshPgliteDir } from '../test/pglite-template.ts';
import { Overview } from './overview.ts';

describe('the overview’s messages per minute', () => {
  it('when a minute’s messages are read in two batches, the second after it was written, then the minute counts both', async () => {
    const { db } = await openDatabase({ dir: await freshPgliteDir() });
    try {
      const logger = createLogger('error', () => undefined);
      const overview = new Overview(
        db,
        { query: async () => ({ items: [] }), listConfigurations: async () => [] },
        new AuditTrail(db, logger),
        new HubBudget(undefined),
        logger,
        { replicaId: 'a', queryShare: 0.2, minIntervalSeconds: 60 },
      );
      // Two minutes ago: a minute that is over, whose late messages (the hub's lag, a backlog
      // read after a restart) still arrive.
      const minute = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60_000;
      overview.telemetryRead(3, minute + 5_000);
      await overview.tick();
      overview.telemetryRead(2, minute + 50_000);
      await overview.stop();
      const counted = (await overview.read()).telemetry.find((t) => Date.parse(t.at) === minute);
      expect(counted?.messages).toBe(5);
    } finally {
      await db.close();
    }
  });
});
