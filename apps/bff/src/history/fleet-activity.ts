import {
  authorOf,
  type ChangeSource,
  type FleetActivityQuery,
  type FleetChange,
  type TwinSectionName,
} from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';
import type { Sql } from '../adapters/store/sql.ts';
import { describeChange } from './describe.ts';

/** Where a section's keys sit in a twin change event's body. */
const SECTION_PATH: Record<TwinSectionName, string[]> = {
  tags: ['tags'],
  desired: ['properties', 'desired'],
  reported: ['properties', 'reported'],
};

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
  const fromDevice = `(cardinality(c.sections) > 0 AND c.sections <@ '{reported}'::text[])`;
  switch (query.source) {
    case 'twinscope':
      where.push('a.actor_name IS NOT NULL');
      break;
    case 'device':
      where.push(`a.actor_name IS NULL AND ${fromDevice} AND c.module_id = ''`);
      break;
    case 'module':
      where.push(`a.actor_name IS NULL AND ${fromDevice} AND c.module_id <> ''`);
      break;
    case 'backend':
      where.push(`a.actor_name IS NULL AND NOT ${fromDevice}`);
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
  const { rows } = await db.query<{
    source_partition: number;
    source_sequence: number;
    device_id: string;
    module_id: string;
    version: number;
    enqueued_at: Date;
    sections: TwinSectionName[];
    op_type: string;
    patch: JsonObject | null;
    oversized: boolean;
    actor_name: string | null;
  }>(
    `SELECT c.source_partition, c.source_sequence, c.device_id, c.module_id, c.version,
       c.enqueued_at, c.sections, c.op_type, c.patch, c.patch_digest IS NOT NULL AS oversized,
       a.actor_name
     FROM twin_changes c
     LEFT JOIN LATERAL (
       SELECT actor_name FROM audit_entries
       WHERE device_id = c.device_id AND module_id = c.module_id AND action LIKE 'twin.%'
         AND result = 'succeeded' AND (after->>'version')::integer = c.version
       LIMIT 1
     ) a ON true
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
        version: row.version,
        at: row.enqueued_at.toISOString(),
        sections: row.sections,
        opType: row.op_type,
        by: row.actor_name ?? authorOf(row.sections, moduleId),
        source: sourceOf(row.sections, moduleId, row.actor_name),
        changes: describeChange(row.op_type, row.patch),
        ...(row.oversized ? { oversized: true } : {}),
      };
    }),
    ...(rows.length > query.limit ? { next: cursorOf(shown.at(-1)!) } : {}),
  };
}
