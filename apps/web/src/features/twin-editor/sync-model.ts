import {
  deepEqual,
  isBookkeepingKey,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';

export type SyncState = 'in-sync' | 'pending' | 'missing' | 'differs';

export interface SyncRow {
  key: string;
  desired: JsonValue;
  reported?: JsonValue;
  state: SyncState;
  desiredAt?: string;
  reportedAt?: string;
}

function stamp(section: JsonObject, key: string): string | undefined {
  const metadata = section['$metadata'];
  if (!isJsonObject(metadata)) return undefined;
  const node = metadata[key];
  const at = isJsonObject(node) ? node['$lastUpdated'] : undefined;
  return typeof at === 'string' ? at : undefined;
}

/**
 * Desired against reported, key by key: in sync (same value), pending (desired changed
 * after the last report of that key), missing (never reported), or differs (reported later
 * with another value: the module chose otherwise).
 */
export function syncRows(desired: JsonObject, reported: JsonObject): SyncRow[] {
  return Object.keys(desired)
    .filter((key) => !isBookkeepingKey(key))
    .map((key) => {
      const desiredAt = stamp(desired, key);
      const reportedAt = stamp(reported, key);
      const base = {
        key,
        desired: desired[key]!,
        ...(desiredAt ? { desiredAt } : {}),
        ...(reportedAt ? { reportedAt } : {}),
      };
      if (!Object.hasOwn(reported, key)) return { ...base, state: 'missing' as const };
      const value = reported[key]!;
      if (deepEqual(desired[key]!, value))
        return { ...base, reported: value, state: 'in-sync' as const };
      const pending = !reportedAt || !desiredAt || Date.parse(desiredAt) >= Date.parse(reportedAt);
      return {
        ...base,
        reported: value,
        state: pending ? ('pending' as const) : ('differs' as const),
      };
    });
}
