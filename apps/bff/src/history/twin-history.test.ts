import { describe, expect, it } from 'vitest';
import type { Twin } from '@twinscope/contract';
import type { RoutedChange } from '../adapters/event-hubs.ts';
import { openDatabase } from '../adapters/store/open-store.ts';
import type { Database } from '../adapters/store/sql.ts';
import { createLogger } from '../log.ts';
import { freshPgliteDir } from '../test/pglite-template.ts';
import { DATABASE_KINDS, useDatabaseServer } from '../test/postgres-server.ts';
import { TwinHistory } from './twin-history.ts';

const logger = createLogger('error', () => undefined);

const change = (
  sequence: number,
  deviceId: string,
  version: number,
  extra: Partial<RoutedChange> = {},
): RoutedChange => ({
  position: { partition: 0, sequenceNumber: sequence },
  source: 'twinChangeEvents',
  opType: 'updateTwin',
  deviceId,
  version,
  enqueuedTime: Date.parse('2026-12-02T10:00:00Z') + sequence,
  sections: ['reported'],
  patch: { version, properties: { reported: { n: version } } },
  ...extra,
});

/** A hub whose twins are at the version given, counting whole-twin reads. */
function fakeHub(versions: Record<string, number>) {
  const reads: string[] = [];
  return {
    reads,
    async getTwin(deviceId: string): Promise<Twin> {
      reads.push(deviceId);
      return {
        deviceId,
        etag: 'e',
        version: versions[deviceId] ?? 1,
        tags: {},
        properties: { desired: {}, reported: {} },
      } as unknown as Twin;
    },
  };
}

describe.each(DATABASE_KINDS)('twin history on $name', ({ postgres }) => {
  const { server, track } = useDatabaseServer(postgres);
  let n = 0;
  /** Two connections to one new database, as two replicas would hold. */
  const replicas = async (): Promise<[Database, Database]> => {
    if (postgres) {
      const url = await server().createDatabase(`h${++n}`);
      return [track((await openDatabase({ url })).db), track((await openDatabase({ url })).db)];
    }
    const db = track((await openDatabase({ dir: await freshPgliteDir() })).db);
    return [db, db];
  };

  const rows = async (db: Database, sql: string) => (await db.query(sql)).rows;

  it('when two replicas read the same events, then each is stored once and the new twin is read once for its first snapshot', async () => {
    const [a, b] = await replicas();
    const hub = fakeHub({ 'dev-1': 3 });
    const one = new TwinHistory(a, hub, logger, { snapshotReadsPerSecond: 100 });
    const two = new TwinHistory(b, hub, logger, { snapshotReadsPerSecond: 100 });
    const batch = [change(1, 'dev-1', 2), change(2, 'dev-1', 3)];
    one.accept(0, batch);
    two.accept(0, batch);
    await Promise.all([one.settled(), two.settled()]);
    await expect
      .poll(async () => rows(a, 'SELECT version, reason FROM twin_snapshots'))
      .toEqual([{ version: 3, reason: 'first-seen' }]);
    expect(
      await rows(a, 'SELECT source_sequence, version, patch FROM twin_changes ORDER BY 1'),
    ).toEqual([
      { source_sequence: 1, version: 2, patch: { version: 2, properties: { reported: { n: 2 } } } },
      { source_sequence: 2, version: 3, patch: { version: 3, properties: { reported: { n: 3 } } } },
    ]);
    expect(hub.reads.length).toBeGreaterThanOrEqual(1);
    expect(hub.reads.length).toBeLessThanOrEqual(2);
    one.stop();
    two.stop();
  });

  it('when versions follow each other, then nothing more is read; when they jump or a patch was too large to keep, then a gap snapshot is taken', async () => {
    const [db] = await replicas();
    const versions = { 'dev-2': 4 };
    const hub = fakeHub(versions);
    const history = new TwinHistory(db, hub, logger, { snapshotReadsPerSecond: 100 });
    history.accept(0, [change(10, 'dev-2', 4)]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(1);
    history.accept(0, [change(11, 'dev-2', 5), change(12, 'dev-2', 6)]);
    await history.settled();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hub.reads).toEqual(['dev-2']);
    // Versions 7 to 9 never came (merged, or lost while the BFF was down).
    versions['dev-2'] = 10;
    history.accept(0, [change(13, 'dev-2', 10)]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(2);
    const oversized = change(14, 'dev-2', 11, {
      patchDigest: { sha256: 'ab'.repeat(32), bytes: 70_000 },
    });
    delete oversized.patch;
    versions['dev-2'] = 11;
    history.accept(0, [oversized]);
    await history.settled();
    await expect.poll(() => hub.reads.length).toBe(3);
    expect(
      await rows(
        db,
        "SELECT patch, patch_digest FROM twin_changes WHERE device_id = 'dev-2' AND version = 11",
      ),
    ).toEqual([{ patch: null, patch_digest: { sha256: 'ab'.repeat(32), bytes: 70_000 } }]);
    expect(
      (
        await rows(
          db,
          "SELECT reason FROM twin_snapshots WHERE device_id = 'dev-2' ORDER BY version",
        )
      ).map((r) => r['reason']),
    ).toEqual(['first-seen', 'gap', 'gap']);
    history.stop();
  });

  it('when events are not twin changes, then nothing is stored', async () => {
    const [db] = await replicas();
    const history = new TwinHistory(db, fakeHub({}), logger);
    history.accept(0, [
      change(20, 'dev-3', 2, { source: 'Telemetry' }),
      change(21, 'dev-3', 2, { source: 'deviceLifecycleEvents' }),
    ]);
    await history.settled();
    expect(await rows(db, 'SELECT count(*) AS n FROM twin_changes')).toEqual([{ n: 0 }]);
    history.stop();
  });
});
