import {
  deepEqual,
  isJsonObject,
  objectOf,
  own,
  setOwn,
  type JsonObject,
  type JsonValue,
} from './json.ts';

/**
 * JSON merge patch (RFC 7386), as IoT Hub applies twin patches: objects merge key by key,
 * null deletes a key, anything else (arrays included) replaces. Inputs are never mutated;
 * untouched subtrees are shared with `target`.
 */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      setOwn(result, key, applyMergePatch(own(result, key), value));
    }
  }
  return result;
}

/** Applies a merge patch to an object document and returns the new document. */
export function applyObjectPatch(target: JsonObject, patch: JsonObject): JsonObject {
  return objectOf(applyMergePatch(target, patch));
}

/**
 * The smallest merge patch that turns `before` into `after`: only changed keys, removed
 * keys as null, unchanged subtrees left out. `after` must hold no nulls (a twin never
 * stores null; in a patch it means "delete").
 */
export function minimalPatch(before: JsonObject, after: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) setOwn(patch, key, null);
  }
  for (const [key, next] of Object.entries(after)) {
    const previous = own(before, key);
    if (previous !== undefined && deepEqual(previous, next)) continue;
    if (isJsonObject(previous) && isJsonObject(next)) {
      const nested = minimalPatch(previous, next);
      if (Object.keys(nested).length > 0) setOwn(patch, key, nested);
    } else {
      setOwn(patch, key, next);
    }
  }
  return patch;
}

/**
 * Whether a document already holds every leaf a merge patch sets (equal values; keys the
 * patch deletes with null already absent): applying it would change nothing.
 */
export function holdsPatch(current: JsonValue | undefined, patch: JsonValue): boolean {
  if (isJsonObject(patch)) {
    if (Object.keys(patch).length === 0) return true;
    return Object.entries(patch).every(([key, value]) =>
      holdsPatch(isJsonObject(current) ? own(current, key) : undefined, value),
    );
  }
  if (patch === null) return current === undefined || current === null;
  return deepEqual(current, patch);
}

/** Lists the dotted paths a patch touches, with whether it deletes them. */
export function patchedPaths(patch: JsonObject, prefix = ''): { path: string; deleted: boolean }[] {
  const out: { path: string; deleted: boolean }[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isJsonObject(value) && Object.keys(value).length > 0) {
      out.push(...patchedPaths(value, path));
    } else {
      out.push({ path, deleted: value === null });
    }
  }
  return out;
}
