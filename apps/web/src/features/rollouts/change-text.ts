import { MethodInvokeRequestSchema, type RolloutChange } from '@twinscope/contract';

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
