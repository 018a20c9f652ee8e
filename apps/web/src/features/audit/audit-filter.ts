import { newestFirst, type AuditEntry } from '@twinscope/contract';
import { AUDIT_FILTER_KEYS, type AuditFilter } from '../../lib/api-paths.ts';
import * as search from '../../lib/search-filter.ts';

/** The filter a page's URL carries (so every view is a deep link). */
export const filterFromSearch = (params: URLSearchParams): AuditFilter =>
  search.filterFromSearch(params, AUDIT_FILTER_KEYS);

export const searchFromFilter = (filter: AuditFilter): string =>
  search.searchFromFilter(filter, AUDIT_FILTER_KEYS);

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
