import type { RolloutChange } from '@twinscope/contract';

/** The change as written: `{"tags": {…}, "desired": {…}}`, or what is wrong with it. */
export function changeFromText(
  text: string,
): { ok: true; change: RolloutChange } | { ok: false; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: `The change is not JSON: ${(error as Error).message}` };
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(parsed))
    return { ok: false, error: 'The change is an object: {"tags": …, "desired": …}.' };
  const extra = Object.keys(parsed).filter((k) => k !== 'tags' && k !== 'desired');
  if (extra.length > 0)
    return { ok: false, error: `Only tags and desired can change: ${extra.join(', ')} cannot.` };
  if (parsed['tags'] === undefined && parsed['desired'] === undefined)
    return { ok: false, error: 'Set tags, desired properties or both.' };
  for (const key of ['tags', 'desired'] as const)
    if (parsed[key] !== undefined && !isObject(parsed[key]))
      return { ok: false, error: `${key} is an object of properties.` };
  return { ok: true, change: parsed as RolloutChange };
}
