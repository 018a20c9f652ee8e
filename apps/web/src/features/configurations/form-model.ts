import type { Configuration, ConfigurationInput } from '@twinscope/contract';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '@twinscope/twin';

/** `name=value` (labels) or `name: query` (metrics) lines as a record, or what is wrong. */
export function recordFromLines(
  text: string,
  separator: '=' | ':',
): { ok: true; value: Record<string, string> } | { ok: false; error: string } {
  const value: Record<string, string> = {};
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const at = line.indexOf(separator);
    const name = at > 0 ? line.slice(0, at).trim() : '';
    const rest = at > 0 ? line.slice(at + 1).trim() : '';
    if (!name || !rest)
      return { ok: false, error: `Line ${i + 1} should read name ${separator} value.` };
    if (name in value) return { ok: false, error: `${name} appears twice.` };
    value[name] = rest;
  }
  return { ok: true, value };
}

export const linesFromRecord = (record: Record<string, string>, separator: '=' | ':') =>
  Object.entries(record)
    .map(([name, value]) => `${name}${separator === '=' ? '=' : ': '}${value}`)
    .join('\n');

/** The content as written: a JSON object of `properties.desired[.path]` keys. */
export function contentFromText(
  text: string,
): { ok: true; value: JsonObject } | { ok: false; error: string } {
  let parsed: JsonValue;
  try {
    parsed = parseJson(text);
  } catch (error) {
    return { ok: false, error: `The content is not JSON: ${(error as Error).message}` };
  }
  if (!isJsonObject(parsed))
    return { ok: false, error: 'The content is a JSON object, as {"properties.desired.x": 1}.' };
  return { ok: true, value: parsed };
}

/** Where a device query's rows are in the device list (`/devices?where=…`); none for modules. */
export function deviceListPath(query: string): string | undefined {
  const match = /^\s*SELECT\s+[\s\S]+?\s+FROM\s+devices\s+WHERE\s+([\s\S]+)$/i.exec(query);
  return match ? `/devices?where=${encodeURIComponent(match[1]!.trim())}` : undefined;
}

/** The list's view of a device configuration's targets: its condition as a device query. */
export function targetsPath(configuration: Pick<Configuration, 'kind' | 'targetCondition'>) {
  const condition = configuration.targetCondition.trim();
  if (configuration.kind !== 'device' || !condition) return undefined;
  return condition === '*' ? '/devices' : `/devices?where=${encodeURIComponent(condition)}`;
}

/** A configuration as the form edits it (a change keeps its content and etag). */
export function inputOf(c: Configuration): ConfigurationInput {
  return {
    id: c.id,
    kind: c.kind === 'module' ? 'module' : 'device',
    priority: c.priority,
    targetCondition: c.targetCondition,
    labels: c.labels,
    content: c.content,
    metrics: c.metrics.queries,
    etag: c.etag,
  };
}
