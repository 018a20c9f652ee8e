import { newestFirst, type AuditEntry } from '@twinscope/contract';
import type { AuditFilter } from '../../lib/api-paths.ts';

const KEYS = ['actor', 'deviceId', 'kind', 'from', 'to'] as const;

/** The filter a page's URL carries (so every view is a deep link). */
export function filterFromSearch(search: URLSearchParams): AuditFilter {
  const filter: AuditFilter = {};
  for (const key of KEYS) {
    const value = search.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return filter;
}

export function searchFromFilter(filter: AuditFilter): string {
  const params = new URLSearchParams();
  for (const key of KEYS) if (filter[key]) params.set(key, filter[key]!);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Whether a record heard live belongs on a page with this filter (as the BFF would decide). */
export function matchesFilter(entry: AuditEntry, filter: AuditFilter): boolean {
  if (filter.actor) {
    const wanted = filter.actor.toLowerCase();
    if (entry.actor.id !== filter.actor && !entry.actor.name.toLowerCase().includes(wanted))
      return false;
  }
  if (filter.deviceId && entry.target.deviceId !== filter.deviceId) return false;
  if (filter.kind && !entry.action.startsWith(`${filter.kind}.`)) return false;
  if (filter.from && entry.at < new Date(filter.from).toISOString()) return false;
  if (filter.to && entry.at >= new Date(filter.to).toISOString()) return false;
  return true;
}

/** Records heard live first (an outcome replaces its attempt), then the pages; each once. */
export function mergeRecords(live: AuditEntry[], pages: AuditEntry[]): AuditEntry[] {
  const byId = new Map<string, AuditEntry>();
  for (const entry of [...live, ...pages]) if (!byId.has(entry.id)) byId.set(entry.id, entry);
  return [...byId.values()].sort(newestFirst);
}
