import { AppError } from './app-error.ts';

export interface DeviceFilter {
  prefix?: string;
  /** `path=value` pairs on tags. */
  tags?: string[];
  where?: string;
}

const SEGMENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string literal in IoT Hub's query language. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `true`, `false`, numbers and quoted text keep their type; anything else is a string. */
function literal(text: string): string {
  const trimmed = text.trim();
  if (trimmed === 'true' || trimmed === 'false') return trimmed;
  if (/^-?\d+(\.\d+)?$/.test(trimmed) && Number.isFinite(Number(trimmed))) return trimmed;
  const quoted = /^'(.*)'$|^"(.*)"$/.exec(trimmed);
  return quote(quoted ? (quoted[1] ?? quoted[2] ?? '') : trimmed);
}

function tagCondition(pair: string): string {
  const at = pair.indexOf('=');
  if (at <= 0)
    throw new AppError(
      'validation_failed',
      `Tag filter "${pair}" must look like path=value, e.g. site=berlin.`,
    );
  const path = pair
    .slice(0, at)
    .trim()
    .replace(/^tags\./, '');
  const segments = path.split('.');
  if (!segments.every((s) => SEGMENT.test(s))) {
    throw new AppError(
      'validation_failed',
      `Tag path "${path}" may use letters, digits and _ separated by dots.`,
    );
  }
  return `tags.${segments.join('.')} = ${literal(pair.slice(at + 1))}`;
}

/** How deep parentheses and lists may nest in a raw WHERE clause. */
export const MAX_WHERE_NESTING = 20;

const CLOSES: Record<string, string> = { ')': '(', ']': '[' };

/**
 * Reads a raw WHERE clause just far enough to know it stays inside the parentheses it is
 * put in: strings closed, every ( and [ closed in order, nesting bounded. `1=1) OR (1=1`
 * would otherwise break out and drop the other filters.
 */
export function checkRawWhere(raw: string): void {
  const refuse = (message: string) => {
    throw new AppError('validation_failed', `The WHERE clause ${message}.`, {
      violations: [{ path: 'where', message: `The WHERE clause ${message}.` }],
    });
  };
  const open: { bracket: string; at: number }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "'" || c === '"') {
      let end = i + 1;
      while (end < raw.length && raw[end] !== c) end += raw[end] === '\\' ? 2 : 1;
      if (end >= raw.length)
        refuse(`opens a string at character ${i + 1} and never closes it (quote with ${c})`);
      i = end;
    } else if (c === '(' || c === '[') {
      open.push({ bracket: c, at: i });
      if (open.length > MAX_WHERE_NESTING)
        refuse(`nests deeper than ${MAX_WHERE_NESTING} levels at character ${i + 1}`);
    } else if (c in CLOSES) {
      const last = open.pop();
      if (last?.bracket !== CLOSES[c])
        refuse(
          last
            ? `closes ${last.bracket} (character ${last.at + 1}) with ${c} at character ${i + 1}`
            : `closes a ${CLOSES[c]} that was never opened, at character ${i + 1}`,
        );
    }
  }
  const unclosed = open.pop();
  if (unclosed)
    refuse(`opens ${unclosed.bracket} at character ${unclosed.at + 1} and never closes it`);
}

/** The next string after every string that starts with `prefix` (for a range on deviceId). */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/**
 * Turns the list filter into an IoT Hub WHERE clause. A prefix becomes a range on deviceId,
 * which every IoT Hub query engine supports; the raw clause is ANDed in parentheses.
 */
export function buildWhere(filter: DeviceFilter): string | undefined {
  const conditions: string[] = [];
  if (filter.prefix)
    conditions.push(
      `deviceId >= ${quote(filter.prefix)} AND deviceId < ${quote(prefixEnd(filter.prefix))}`,
    );
  for (const pair of filter.tags ?? []) conditions.push(tagCondition(pair));
  const raw = filter.where?.trim().replace(/^where\s+/i, '');
  if (raw) {
    checkRawWhere(raw);
    conditions.push(`(${raw})`);
  }
  return conditions.length > 0 ? conditions.join(' AND ') : undefined;
}

export function deviceQuery(filter: DeviceFilter): string {
  const where = buildWhere(filter);
  return `SELECT * FROM devices${where ? ` WHERE ${where}` : ''}`;
}

/** Only the ids of the devices a filter matches (what a list's telemetry follows). */
export function deviceIdQuery(filter: DeviceFilter): string {
  const where = buildWhere(filter);
  return `SELECT deviceId FROM devices${where ? ` WHERE ${where}` : ''}`;
}

/** The fleet's module twins a filter matches (prefix on the device id, tags of the module twin). */
export function moduleQuery(filter: DeviceFilter): string {
  const where = buildWhere(filter);
  return `SELECT * FROM devices.modules${where ? ` WHERE ${where}` : ''}`;
}

export function moduleCountQuery(filter: DeviceFilter): string {
  const where = buildWhere(filter);
  return `SELECT COUNT() AS total FROM devices.modules${where ? ` WHERE ${where}` : ''}`;
}

export function countQuery(filter: DeviceFilter): string {
  const where = buildWhere(filter);
  return `SELECT COUNT() AS total FROM devices${where ? ` WHERE ${where}` : ''}`;
}

/** Ids as IN lists (`['a','b']`), each at most `room` characters long. */
export function inLists(ids: string[], room: number): string[] {
  const lists: string[] = [];
  let batch: string[] = [];
  let length = 2;
  for (const id of ids) {
    const item = quote(id);
    if (batch.length > 0 && length + item.length + 1 > room) {
      lists.push(`[${batch.join(',')}]`);
      batch = [];
      length = 2;
    }
    batch.push(item);
    length += item.length + 1;
  }
  if (batch.length > 0) lists.push(`[${batch.join(',')}]`);
  return lists;
}

/** IN lists of device ids, each query under IoT Hub's 8 KB query limit. */
export function moduleCountQueries(deviceIds: string[], maxLength = 7500): string[] {
  const head = 'SELECT deviceId, moduleId, connectionState FROM devices.modules WHERE deviceId IN ';
  return inLists(deviceIds, maxLength - head.length).map((list) => `${head}${list}`);
}
