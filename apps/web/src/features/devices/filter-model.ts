import { PAGE_SIZES, type ListViewSpec } from '@twinscope/contract';
import type { DeviceFilter } from '../../lib/api-paths.ts';

export interface ListView {
  /** Devices, or the fleet's module twins (`FROM devices.modules`). */
  source: 'devices' | 'modules';
  filter: DeviceFilter;
  /** Tag paths shown as columns. */
  columns: string[];
}

const WHERE_HINT = /(<|>|!=|<>|\bAND\b|\bOR\b|\bNOT\b|\bIN\b|\bNIN\b|\(|'|")/i;
const TAG_PAIR = /^(?:tags\.)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*=\s*(\S.*)$/;

export type FilterInput =
  | { kind: 'prefix'; value: string }
  | { kind: 'tag'; value: string }
  | { kind: 'where'; value: string };

/**
 * Reads what an operator typed in the filter box: `site=berlin` is a tag chip, anything
 * that looks like a query (`properties.reported.fw < '2'`, `WHERE …`) is a raw clause,
 * and a bare word is a device-id prefix.
 */
export function classifyInput(text: string): FilterInput | undefined {
  const value = text.trim();
  if (!value) return undefined;
  if (/^where\s+/i.test(value)) return { kind: 'where', value: value.replace(/^where\s+/i, '') };
  const pair = TAG_PAIR.exec(value);
  if (pair && !WHERE_HINT.test(value) && !/\s/.test(pair[2]!.trim()))
    return { kind: 'tag', value: `${pair[1]}=${pair[2]!.trim()}` };
  if (WHERE_HINT.test(value) || /\s/.test(value) || value.includes('='))
    return { kind: 'where', value };
  return { kind: 'prefix', value };
}

/** The view with a typed filter added: a tag joins the chips, a prefix or clause replaces its own. */
export function withInput(view: ListView, input: FilterInput): ListView {
  const filter = { ...view.filter };
  if (input.kind === 'tag')
    filter.tags = [...filter.tags.filter((t) => t !== input.value), input.value];
  else filter[input.kind] = input.value;
  return { ...view, filter };
}

/** The view without one chip: a tag by its value, the prefix or the clause. */
export function withoutFilter(view: ListView, kind: FilterInput['kind'], value?: string): ListView {
  const filter = { ...view.filter };
  if (kind === 'tag') filter.tags = filter.tags.filter((t) => t !== value);
  else delete filter[kind];
  return { ...view, filter };
}

/** Tag columns as typed: comma-separated paths, blanks dropped. */
export function columnsFromText(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

export function viewFromSearch(search: URLSearchParams): ListView {
  const size = Number(search.get('pageSize'));
  const pageSize = (PAGE_SIZES as readonly number[]).includes(size) ? size : 100;
  const prefix = search.get('prefix') ?? undefined;
  const where = search.get('where') ?? undefined;
  const columns = (search.get('cols') ?? 'site,role')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return {
    source: search.get('source') === 'modules' ? 'modules' : 'devices',
    filter: {
      pageSize,
      tags: search.getAll('tag'),
      ...(prefix ? { prefix } : {}),
      ...(where ? { where } : {}),
    },
    columns,
  };
}

export function searchFromView(view: ListView): string {
  const params = new URLSearchParams();
  if (view.source === 'modules') params.set('source', 'modules');
  if (view.filter.prefix) params.set('prefix', view.filter.prefix);
  for (const tag of view.filter.tags) params.append('tag', tag);
  if (view.filter.where) params.set('where', view.filter.where);
  if (view.filter.pageSize !== 100) params.set('pageSize', String(view.filter.pageSize));
  const cols = view.columns.join(',');
  if (cols !== 'site,role') params.set('cols', cols);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Reads a dotted tag path out of a device's tags for a column. */
export function tagValue(tags: Record<string, unknown>, path: string): string {
  let node: unknown = tags;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null) return '';
    node = (node as Record<string, unknown>)[key];
  }
  if (node === undefined) return '';
  return typeof node === 'string' ? node : JSON.stringify(node);
}

/** A list view as it is saved: what the URL holds. */
export function specOf(view: ListView): ListViewSpec {
  return {
    source: view.source,
    ...(view.filter.prefix ? { prefix: view.filter.prefix } : {}),
    tags: view.filter.tags,
    ...(view.filter.where ? { where: view.filter.where } : {}),
    columns: view.columns,
    pageSize: view.filter.pageSize,
  };
}

/** A saved view back as the list shows it. */
export function viewOfSpec(spec: ListViewSpec): ListView {
  return {
    source: spec.source,
    filter: {
      pageSize: spec.pageSize,
      tags: spec.tags,
      ...(spec.prefix ? { prefix: spec.prefix } : {}),
      ...(spec.where ? { where: spec.where } : {}),
    },
    columns: spec.columns,
  };
}

/** Whether two views show the same list (the URL they make is the same). */
export function sameView(a: ListView, b: ListView): boolean {
  return searchFromView(a) === searchFromView(b);
}
