import { isBookkeepingKey, isJsonObject, type JsonObject, type JsonValue } from '@twinscope/twin';

export interface ReportedRow {
  path: string;
  value: JsonValue;
  lastUpdated?: string;
}

/** Flattens a reported (or desired) section into leaf rows with their `$lastUpdated`. */
export function sectionRows(section: JsonObject): ReportedRow[] {
  const metadata = isJsonObject(section['$metadata']) ? section['$metadata'] : {};
  const rows: ReportedRow[] = [];
  const walk = (node: JsonObject, meta: JsonObject, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      if (isBookkeepingKey(key)) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      const childMeta = isJsonObject(meta[key]) ? meta[key] : {};
      if (isJsonObject(value) && Object.keys(value).length > 0) {
        walk(value, childMeta, path);
      } else {
        const lastUpdated = childMeta['$lastUpdated'];
        rows.push({ path, value, ...(typeof lastUpdated === 'string' ? { lastUpdated } : {}) });
      }
    }
  };
  walk(section, metadata, '');
  return rows;
}
