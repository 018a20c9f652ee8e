import {
  authorOf,
  type ChangeSource,
  type FleetActivityQuery,
  type FleetChange,
  type TwinSectionName,
} from '@twinscope/contract';
import type { Sql } from '../adapters/store/sql.ts';
import { versionOf, type StoredVersionRow } from './describe.ts';

/** Where a section's keys sit in a twin change event's body. */
const SECTION_PATH: Record<TwinSectionName, string[]> = {
  tags: ['tags'],
  desired: ['properties', 'desired'],
  reported: ['properties', 'reported'],
};

/** An audit record (alias `a`) of a write from Twinscope that produced the change `c`. */
const AUDIT_MATCH = `a.device_id = c.device_id AND a.module_id = c.module_id
  AND a.action LIKE 'twin.%' AND a.result = 'succeeded'
  AND (a.after->>'version')::integer = c.version`;

/** Who made a change: the audit trail names Twinscope's; otherwise the sections say. */
export function sourceOf(
  sections: readonly TwinSectionName[],
  moduleId: string | undefined,
  auditedBy: string | null,
): ChangeSource {
  if (auditedBy !== null) return 'twinscope';
  const by = authorOf(sections, moduleId);
  return by === 'the module' ? 'module' : by === 'the device' ? 'device' : 'backend';
}

/** The `next` of a page: the last change's place in the order (enqueued ms, partition, sequence). */
const cursorOf = (row: { enqueued_at: Date; source_partition: number; source_sequence: number }) =>
  `${row.enqueued_at.getTime()}:${row.source_partition}:${row.source_sequence}`;

/**
 * The fleet's twin changes, newest first, a page at a time, filtered by device (and module),
 * section, who made them and a key a change touched. Every value is a parameter; the order
 * is an index's, so a page over millions of stored changes reads only what it shows.
 */
export async function fleetActivity(
  db: Sql,
  query: FleetActivityQuery,
): Promise<{ changes: FleetChange[]; next?: string }> {
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = ['c.version IS NOT NULL'];
  if (query.deviceId !== undefined) where.push(`c.device_id = ${param(query.deviceId)}`);
  if (query.moduleId !== undefined) where.push(`c.module_id = ${param(query.moduleId)}`);
  if (query.section !== undefined) where.push(`${param(query.section)} = ANY(c.sections)`);
  if (query.key !== undefined) {
    const key = query.key.split('.');
    const sections = query.section ? [query.section] : (['tags', 'desired', 'reported'] as const);
    where.push(
      `(${sections
        .map((s) => `c.patch #> ${param([...SECTION_PATH[s], ...key])}::text[] IS NOT NULL`)
        .join(' OR ')})`,
    );
  }
  // Only a device or a module writes reported properties, and nothing else in one change;
  // equality lets the planner use the column's statistics (a few distinct values).
  const fromDevice = `c.sections = '{reported}'::text[]`;
  // Made from Twinscope: a succeeded audit record names the version it produced.
  const audited = `EXISTS (SELECT 1 FROM audit_entries a WHERE ${AUDIT_MATCH})`;
  let from = 'twin_changes c';
  switch (query.source) {
    case 'twinscope':
      // Driven by the audit trail (few rows next to every twin change): each record's version.
      from = `(SELECT DISTINCT device_id AS d, module_id AS m, (after->>'version')::integer AS v
               FROM audit_entries
               WHERE action LIKE 'twin.%' AND result = 'succeeded' AND after ? 'version'
               ${query.deviceId !== undefined ? `AND device_id = ${param(query.deviceId)}` : ''}) a
             JOIN twin_changes c ON c.device_id = a.d AND c.module_id = a.m AND c.version = a.v`;
      break;
    case 'device':
      where.push(`${fromDevice} AND c.module_id = ''`);
      break;
    case 'module':
      where.push(`${fromDevice} AND c.module_id <> ''`);
      break;
    case 'backend':
      where.push(`c.sections <> '{reported}'::text[] AND NOT ${audited}`);
      break;
  }
  if (query.before !== undefined) {
    const [at, partition, sequence] = query.before.split(':').map(Number) as [
      number,
      number,
      number,
    ];
    where.push(
      `(c.enqueued_at, c.source_partition, c.source_sequence) < (${param(new Date(at))}::timestamptz, ${param(partition)}::integer, ${param(sequence)}::bigint)`,
    );
  }
  const { rows } = await db.query<
    StoredVersionRow & {
      source_partition: number;
      source_sequence: number;
      device_id: string;
      module_id: string;
      actor_name: string | null;
    }
  >(
    // Who made it is looked up for the rows shown only (the select list runs under the limit).
    `SELECT c.source_partition, c.source_sequence, c.device_id, c.module_id, c.version,
       c.enqueued_at, c.sections, c.op_type, c.patch, c.patch_digest IS NOT NULL AS oversized,
       (SELECT a.actor_name FROM audit_entries a WHERE ${AUDIT_MATCH} LIMIT 1) AS actor_name
     FROM ${from}
     WHERE ${where.join(' AND ')}
     ORDER BY c.enqueued_at DESC, c.source_partition DESC, c.source_sequence DESC
     LIMIT ${param(query.limit + 1)}`,
    params,
  );
  const shown = rows.slice(0, query.limit);
  return {
    changes: shown.map((row) => {
      const moduleId = row.module_id === '' ? undefined : row.module_id;
      return {
        deviceId: row.device_id,
        ...(moduleId !== undefined ? { moduleId } : {}),
        ...versionOf(row, moduleId, row.actor_name),
        source: sourceOf(row.sections, moduleId, row.actor_name),
      };
    }),
    ...(rows.length > query.limit ? { next: cursorOf(shown.at(-1)!) } : {}),
  };
}
