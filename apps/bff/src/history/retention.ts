import type { Database, Sql } from '../adapters/store/sql.ts';
import { rebuildFromStore, snapshotOf } from './rebuild.ts';

/** Any number: replicas pruning at once take turns, twin by twin. */
const PRUNE_LOCK = 0x7457_6872;
/** Twins compacted per round. */
const TWINS_PER_ROUND = 200;

type TwinRow = { device_id: string; module_id: string };

/**
 * One twin's changes before the cutoff go; its oldest snapshot moves forward to the newest
 * version deleted (rebuilt from the snapshot and changes before it), so every version kept
 * still rebuilds. Where that version cannot be rebuilt (it was in a gap), the versions after
 * it rebuild from the next gap snapshot, as before.
 */
async function compactTwin(tx: Sql, twin: TwinRow, cutoff: Date): Promise<number> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [PRUNE_LOCK]);
  const args = [twin.device_id, twin.module_id];
  const { rows } = await tx.query<{ version: number | null }>(
    `SELECT max(version) AS version FROM twin_changes
     WHERE device_id = $1 AND module_id = $2 AND enqueued_at < $3`,
    [...args, cutoff],
  );
  const last = rows[0]?.version ?? null;
  if (last !== null) {
    const rebuilt = await rebuildFromStore(
      tx,
      { deviceId: twin.device_id, moduleId: twin.module_id },
      last,
    );
    if (rebuilt.ok)
      await tx.query(
        `INSERT INTO twin_snapshots (device_id, module_id, version, twin, reason)
         VALUES ($1, $2, $3, $4, 'retention') ON CONFLICT DO NOTHING`,
        [...args, last, snapshotOf(rebuilt.doc)],
      );
    await tx.query(
      'DELETE FROM twin_snapshots WHERE device_id = $1 AND module_id = $2 AND version < $3',
      [...args, last],
    );
  }
  const gone = await tx.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM twin_changes WHERE device_id = $1 AND module_id = $2 AND enqueued_at < $3
       RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [...args, cutoff],
  );
  return gone.rows[0]?.n ?? 0;
}

/**
 * Deletes the twin changes stored before `cutoff`, twin by twin, keeping every later version
 * rebuildable, and the snapshots of twins with no change left; returns how many changes went.
 */
export async function pruneHistory(db: Database, cutoff: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rows: twins } = await db.query<TwinRow>(
      `SELECT DISTINCT device_id, module_id FROM (
         SELECT device_id, module_id FROM twin_changes WHERE enqueued_at < $1 LIMIT 20000
       ) old LIMIT $2`,
      [cutoff, TWINS_PER_ROUND],
    );
    if (twins.length === 0) break;
    for (const twin of twins)
      deleted += await db.transaction((tx) => compactTwin(tx, twin, cutoff));
  }
  await db.query(
    `DELETE FROM twin_snapshots s WHERE taken_at < $1 AND NOT EXISTS (
       SELECT 1 FROM twin_changes c WHERE c.device_id = s.device_id AND c.module_id = s.module_id)`,
    [cutoff],
  );
  return deleted;
}
