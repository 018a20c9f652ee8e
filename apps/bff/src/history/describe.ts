import { authorOf, type TwinSectionName, type TwinVersion } from '@twinscope/contract';
import { isJsonObject, type JsonObject, type JsonValue } from '@twinscope/twin';

/** Lines a change is described in, at most; past it, one line says how many more. */
const MAX_LINES = 6;
/** A value is shown up to this many characters. */
const MAX_VALUE = 60;

const shown = (value: JsonValue): string => {
  if (value === null) return 'removed';
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
};

/** Every leaf a patch sets (or removes, with null), as `path: value`. */
function leaves(prefix: string, value: JsonValue, out: string[]): void {
  if (isJsonObject(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$')) continue;
      leaves(`${prefix}.${key}`, item, out);
    }
    return;
  }
  out.push(`${prefix}: ${shown(value)}`);
}

/**
 * What a twin change event says, in a few lines an operator reads at a glance:
 * `desired.firmware.version: "2.1"`, `tags.site: removed`. A replace says so.
 */
export function describeChange(opType: string, patch: JsonObject | null): string[] {
  if (patch === null) return ['too large to keep: only its size and digest were stored'];
  if (opType === 'replaceTwin') return ['replaced the whole twin'];
  const lines: string[] = [];
  const properties = isJsonObject(patch['properties']) ? patch['properties'] : {};
  if (patch['tags'] !== undefined) leaves('tags', patch['tags'], lines);
  for (const section of ['desired', 'reported'] as const)
    if (properties[section] !== undefined) leaves(section, properties[section]!, lines);
  if (lines.length <= MAX_LINES) return lines;
  return [...lines.slice(0, MAX_LINES - 1), `… and ${lines.length - MAX_LINES + 1} more`];
}

/** A stored twin change as the history's queries read it. */
export interface StoredVersionRow {
  version: number;
  enqueued_at: Date;
  sections: TwinSectionName[];
  op_type: string;
  patch: JsonObject | null;
  oversized: boolean;
}

/**
 * A stored change as a version: who made it (a person from the audit trail, otherwise what
 * its sections say) and what its event says.
 */
export function versionOf(
  row: StoredVersionRow,
  moduleId: string | undefined,
  person: string | null | undefined,
): TwinVersion {
  return {
    version: row.version,
    at: row.enqueued_at.toISOString(),
    sections: row.sections,
    opType: row.op_type,
    by: person ?? authorOf(row.sections, moduleId),
    changes: describeChange(row.op_type, row.patch),
    ...(row.oversized ? { oversized: true } : {}),
  };
}
