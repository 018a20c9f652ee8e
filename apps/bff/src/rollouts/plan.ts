import type { RolloutChange } from '@twinscope/contract';
import {
  applyObjectPatch,
  deepEqual,
  holdsPatch,
  isJsonObject,
  minimalPatch,
  own,
  type JsonObject,
} from '@twinscope/twin';

/** A twin's writable sections without IoT Hub's bookkeeping. */
export interface Sections {
  tags: JsonObject;
  desired: JsonObject;
}

/** Whether a twin holds the whole change (tags and desired). */
export function holdsChange(twin: Sections, change: RolloutChange): boolean {
  return (
    (!change.tags || holdsPatch(twin.tags, change.tags)) &&
    (!change.desired || holdsPatch(twin.desired, change.desired))
  );
}

/** The first path where a twin no longer holds the change, for the rollback's explanation. */
export function firstDifference(
  document: JsonObject,
  patch: JsonObject,
  prefix: string,
): string | undefined {
  for (const [key, value] of Object.entries(patch)) {
    const path = `${prefix}.${key}`;
    const current = own(document, key);
    if (isJsonObject(value) && Object.keys(value).length > 0) {
      if (!isJsonObject(current)) return `${path} is now ${JSON.stringify(current ?? null)}`;
      const deeper = firstDifference(current, value, path);
      if (deeper) return deeper;
    } else if (value === null ? current !== undefined : !deepEqual(current, value))
      return `${path} is now ${current === undefined ? 'absent' : JSON.stringify(current)}`;
  }
  return undefined;
}

/** What the change would make of a twin, and the patch that undoes it (per section). */
export function applyChange(
  twin: Sections,
  change: RolloutChange,
): { after: Partial<Sections>; inverse: Partial<Sections> } {
  const after: Partial<Sections> = {};
  const inverse: Partial<Sections> = {};
  for (const section of ['tags', 'desired'] as const) {
    const patch = change[section];
    if (!patch) continue;
    const result = applyObjectPatch(twin[section], patch);
    after[section] = result;
    inverse[section] = minimalPatch(result, twin[section]);
  }
  return { after, inverse };
}

/** The body of a twin PATCH for a change in sections. */
export function hubPatchOf(change: Partial<Sections>): JsonObject {
  return {
    ...(change.tags && Object.keys(change.tags).length > 0 ? { tags: change.tags } : {}),
    ...(change.desired && Object.keys(change.desired).length > 0
      ? { properties: { desired: change.desired } }
      : {}),
  };
}
