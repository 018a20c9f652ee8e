import type { TwinRef, TwinVersion, TwinVersionsResponse } from '@twinscope/contract';
import type { Sql } from '../adapters/store/sql.ts';
import { versionOf, type StoredVersionRow } from './describe.ts';

/**
 * A twin's versions the history holds, newest first, a page at a time, each with who made
 * it (a person for Twinscope's own writes, from the audit trail), and the gaps between them.
 */
export async function twinVersions(
  db: Sql,
  ref: TwinRef,
  page: { limit: number; before?: number },
): Promise<Omit<TwinVersionsResponse, 'catchingUp'>> {
  const moduleId = ref.moduleId ?? '';
  const { rows } = await db.query<StoredVersionRow>(
    `SELECT version, enqueued_at, sections, op_type, patch,
       patch_digest IS NOT NULL AS oversized
     FROM twin_changes
     WHERE device_id = $1 AND module_id = $2 AND version IS NOT NULL
       AND ($3::integer IS NULL OR version < $3)
     ORDER BY version DESC LIMIT $4`,
    [ref.deviceId, moduleId, page.before ?? null, page.limit + 1],
  );
  const shown = rows.slice(0, page.limit);
  const authors = new Map<number, string>();
  if (shown.length > 0) {
    const audited = await db.query<{ version: number; actor_name: string }>(
      `SELECT (after->>'version')::integer AS version, actor_name FROM audit_entries
       WHERE device_id = $1 AND module_id = $2 AND action LIKE 'twin.%'
         AND result = 'succeeded' AND (after->>'version')::integer = ANY($3::integer[])`,
      [ref.deviceId, moduleId, shown.map((r) => r.version)],
    );
    for (const row of audited.rows) authors.set(row.version, row.actor_name);
  }
  const versions: TwinVersion[] = shown.map((row) =>
    versionOf(row, ref.moduleId, authors.get(row.version)),
  );
  const gaps: { from: number; to: number }[] = [];
  for (let i = 1; i < versions.length; i++) {
    const newer = versions[i - 1]!.version;
    const older = versions[i]!.version;
    if (newer - older > 1) gaps.push({ from: older + 1, to: newer - 1 });
  }
  return {
    versions,
    gaps,
    ...(rows.length > page.limit ? { next: String(shown.at(-1)!.version) } : {}),
  };
}
