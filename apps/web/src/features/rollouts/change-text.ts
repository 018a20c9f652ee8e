import { MethodInvokeRequestSchema, type RolloutChange } from '@twinscope/contract';
import { validateSectionPatch } from '@twinscope/twin';
import type { EditorMarker } from '../../components/monaco.tsx';
import { parseJsonText } from '../../lib/json-text.ts';

/**
 * The change as written: `{"tags": {…}, "desired": {…}}`, or a direct method call
 * `{"method": {"methodName": …, "payload": …}}`; or what is wrong with it.
 */
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
  const extra = Object.keys(parsed).filter((k) => !['tags', 'desired', 'method'].includes(k));
  if (extra.length > 0)
    return {
      ok: false,
      error: `Only tags and desired can change, or a method be called: ${extra.join(', ')} cannot.`,
    };
  if (parsed['method'] !== undefined) {
    if (parsed['tags'] !== undefined || parsed['desired'] !== undefined)
      return { ok: false, error: 'A change either writes the twin or calls a method, not both.' };
    const method = MethodInvokeRequestSchema.safeParse(parsed['method']);
    if (!method.success)
      return { ok: false, error: `The method call: ${method.error.issues[0]!.message}` };
    return { ok: true, change: { method: method.data } };
  }
  if (parsed['tags'] === undefined && parsed['desired'] === undefined)
    return { ok: false, error: 'Set tags, desired properties or both, or call a method.' };
  for (const key of ['tags', 'desired'] as const)
    if (parsed[key] !== undefined && !isObject(parsed[key]))
      return { ok: false, error: `${key} is an object of properties.` };
  return { ok: true, change: parsed as RolloutChange };
}

/** What is wrong with the change as typed, where it is: JSON, its shape, the twin rules. */
export function changeMarkers(text: string): EditorMarker[] {
  const json = parseJsonText(text, 'The change');
  if (!json.ok) return [{ message: json.message, offset: json.offset ?? 0 }];
  const parsed = changeFromText(text);
  if (!parsed.ok) return [{ message: parsed.error, offset: 0 }];
  return (['tags', 'desired'] as const).flatMap((section) => {
    const patch = parsed.change[section];
    if (!patch) return [];
    return validateSectionPatch(section, patch).map((violation) => ({
      // The rules name places from the twin's root; this document holds `desired` itself.
      location:
        violation.location[0] === 'properties' ? violation.location.slice(1) : violation.location,
      message: `${violation.path}: ${violation.message}`,
    }));
  });
}
