import { createHash } from 'node:crypto';
import { setOwn, type JsonObject, type JsonValue } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Registry } from '../store/registry.ts';
import { renderTwin } from '../store/twin-render.ts';
import { QuerySyntaxError, type Expr, type Query, type SelectItem, type Value } from './ast.ts';
import { canonicalRoot, checkFunctions, evaluate, type Row } from './evaluate.ts';
import { parseQuery } from './parser.ts';

export const MAX_QUERY_LENGTH = 8192;
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

export interface QueryPage {
  items: JsonValue[];
  /** Present only when more pages exist. */
  continuation?: string;
  itemType: 'twin' | 'raw' | 'deviceJob';
}

interface Continuation {
  /** Which query the token belongs to. */
  q: string;
  /** Index in the source rows where the next page starts, and that row's key. */
  i: number;
  k: string;
  /** Items already returned (for TOP). */
  n: number;
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function rowKey(record: Row): string {
  if ('doc' in record)
    return `${String(record.doc['deviceId'])}\u0000${String(record.doc['jobId'])}`;
  return record.moduleId === undefined ? record.deviceId : `${record.deviceId}/${record.moduleId}`;
}

const parsed = new Map<string, Query>();

function compile(text: string): Query {
  const cached = parsed.get(text);
  if (cached) return cached;
  let query: Query;
  try {
    query = parseQuery(text);
    checkFunctions(query.where);
    query.items.forEach((item) => checkFunctions(item.expr));
    checkShape(query);
  } catch (error) {
    if (error instanceof QuerySyntaxError) {
      const near = text.slice(error.position, error.position + 20);
      throw new HubError(
        'ArgumentInvalid',
        `Invalid query: ${error.message} at position ${error.position}${near ? ` (near "${near}")` : ''}.`,
      );
    }
    throw error;
  }
  if (parsed.size > 200) parsed.clear();
  parsed.set(text, query);
  return query;
}

/** Identifies an expression regardless of where it was written in the query text. */
function exprKey(expr: Expr): string {
  return JSON.stringify(expr, (key, value: unknown) => (key === 'position' ? undefined : value));
}

function checkShape(query: Query): void {
  const aggregates = query.items.filter((item) => item.aggregate);
  if (query.groupBy.length > 0 && query.source !== 'devices') {
    throw new QuerySyntaxError('GROUP BY works only on device twins (FROM devices)', 0);
  }
  if (query.groupBy.length > 0 && aggregates.length === 0) {
    throw new QuerySyntaxError('GROUP BY needs an aggregate such as COUNT() in SELECT', 0);
  }
  if (aggregates.length > 0) {
    const grouped = new Set(query.groupBy.map(exprKey));
    for (const item of query.items) {
      if (!item.aggregate && !grouped.has(exprKey(item.expr))) {
        throw new QuerySyntaxError(
          'with aggregates, every other selected value must appear in GROUP BY',
          item.expr.kind === 'path' ? item.expr.position : 0,
        );
      }
    }
  }
  const names = new Set<string>();
  outputNames(query.items).forEach((name) => {
    if (names.has(name))
      throw new QuerySyntaxError(`two selected values are both named ${name}; use AS`, 0);
    names.add(name);
  });
}

function outputNames(items: SelectItem[]): string[] {
  let unnamed = 0;
  return items.map((item) => {
    if (item.alias) return item.alias;
    if (!item.aggregate && item.expr.kind === 'path') {
      const { segments } = item.expr;
      return segments.length === 1 ? canonicalRoot(segments[0]!) : segments[segments.length - 1]!;
    }
    unnamed++;
    return `$${unnamed}`;
  });
}

function decodeContinuation(token: string, query: string): Continuation {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Continuation;
    if (
      value.q === query &&
      Number.isInteger(value.i) &&
      typeof value.k === 'string' &&
      Number.isInteger(value.n)
    ) {
      return value;
    }
  } catch {
    // Fall through to the error below.
  }
  throw new HubError('ArgumentInvalid', 'The continuation token is not valid for this query.');
}

function encodeContinuation(value: Continuation): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function project(query: Query, names: string[], record: Row): JsonValue {
  if (query.items.length === 0) return 'doc' in record ? record.doc : renderTwin(record);
  const out: JsonObject = {};
  query.items.forEach((item, i) => {
    const value = evaluate(item.expr, record);
    if (value !== undefined) setOwn(out, names[i]!, value);
  });
  return out;
}

function matchesWhere(where: Expr | undefined, record: Row): boolean {
  return !where || evaluate(where, record) === true;
}

function aggregate(query: Query, names: string[], rows: Row[]): JsonValue[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    if (!matchesWhere(query.where, row)) continue;
    const key = JSON.stringify(query.groupBy.map((g) => evaluate(g, row) ?? '\u0000undefined'));
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  if (groups.size === 0 && query.groupBy.length === 0) groups.set('', []);
  const results: JsonValue[] = [];
  for (const members of groups.values()) {
    const out: JsonObject = {};
    query.items.forEach((item, i) => {
      const value = item.aggregate
        ? aggregateValue(item, members)
        : members[0] && evaluate(item.expr, members[0]);
      if (value !== undefined) setOwn(out, names[i]!, value);
    });
    results.push(out);
    if (query.top !== undefined && results.length >= query.top) break;
  }
  return results;
}

function aggregateValue(item: SelectItem, rows: Row[]): Value {
  const { name, arg } = item.aggregate!;
  if (name === 'COUNT') return rows.length;
  const values: Value[] = rows.map((row) => evaluate(arg!, row));
  const numbers = values.filter((v): v is number => typeof v === 'number');
  switch (name) {
    case 'SUM':
      return numbers.reduce((a, b) => a + b, 0);
    case 'AVG':
      return numbers.length ? numbers.reduce((a, b) => a + b, 0) / numbers.length : undefined;
    default: {
      const comparable = values.filter(
        (v): v is number | string => typeof v === 'number' || typeof v === 'string',
      );
      if (comparable.length === 0) return undefined;
      return comparable.reduce((best, v) =>
        typeof v === typeof best && (name === 'MIN' ? v < best : v > best) ? v : best,
      );
    }
  }
}

/** Runs an IoT Hub query and returns one page of it. */
export function runQuery(
  registry: Registry,
  text: string,
  options: { pageSize?: number; continuation?: string; deviceJobs?: () => JsonObject[] },
): QueryPage {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new HubError('ArgumentInvalid', 'The query is empty.');
  }
  if (text.length > MAX_QUERY_LENGTH) {
    throw new HubError('ArgumentInvalid', `Queries are limited to ${MAX_QUERY_LENGTH} characters.`);
  }
  const query = compile(text);
  const names = outputNames(query.items);
  const rows: Row[] =
    query.source === 'devices'
      ? registry.devices()
      : query.source === 'devices.modules'
        ? registry.modules()
        : (options.deviceJobs?.() ?? []).map((doc) => ({ doc }));
  const isAggregate = query.items.some((item) => item.aggregate);
  if (isAggregate) return { items: aggregate(query, names, rows), itemType: 'raw' };

  const pageSize = Math.min(options.pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const id = fingerprint(text);
  let start = 0;
  let returned = 0;
  if (options.continuation) {
    const token = decodeContinuation(options.continuation, id);
    returned = token.n;
    start = token.i;
    // Rows may have been added or deleted since the last page: find the row again by key.
    if (rows[start] === undefined || rowKey(rows[start]!) !== token.k) {
      const found = rows.findIndex((row) => rowKey(row) === token.k);
      start = found >= 0 ? found : Math.min(start, rows.length);
    }
  }
  const limit = query.top === undefined ? pageSize : Math.min(pageSize, query.top - returned);
  const items: JsonValue[] = [];
  let index = start;
  for (; index < rows.length && items.length < limit; index++) {
    const row = rows[index]!;
    if (matchesWhere(query.where, row)) items.push(project(query, names, row));
  }
  const page: QueryPage = {
    items,
    itemType:
      query.items.length > 0 ? 'raw' : query.source === 'devices.jobs' ? 'deviceJob' : 'twin',
  };
  const total = returned + items.length;
  if (query.top !== undefined && total >= query.top) return page;
  // Look ahead for the next match so the last page never carries a continuation.
  for (; index < rows.length; index++) {
    const row = rows[index]!;
    if (matchesWhere(query.where, row)) {
      page.continuation = encodeContinuation({ q: id, i: index, k: rowKey(row), n: total });
      break;
    }
  }
  return page;
}

/** Every row of a query, page after page (the emulator's own work: jobs, configurations). */
export function allRows(registry: Registry, text: string): JsonValue[] {
  const rows: JsonValue[] = [];
  let continuation: string | undefined;
  do {
    const page = runQuery(registry, text, {
      pageSize: MAX_PAGE_SIZE,
      ...(continuation ? { continuation } : {}),
    });
    rows.push(...page.items);
    continuation = page.continuation;
  } while (continuation);
  return rows;
}
