// Where a configuration's content lands in a twin: `properties.desired` or a path below it,
// patches built and merged from those paths, and an IoT Edge deployment's modulesContent
// layered into the desired properties of each module. Pure.
import {
  applyObjectPatch,
  isJsonObject,
  objectOf,
  validateSection,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { violationError } from '../store/twin-writes.ts';

/** `properties.desired` or `properties.desired.a.b`: where content lands in a twin. */
export function desiredPath(key: string): string[] | undefined {
  const parts = key.split('.');
  if (parts[0] !== 'properties' || parts[1] !== 'desired') return undefined;
  if (parts.slice(2).some((p) => p.length === 0)) return undefined;
  return parts.slice(2);
}

/** `{a: {b: value}}` for the path [a, b]; the value itself for the whole section. */
export function patchAt(path: string[], value: JsonValue): JsonObject | undefined {
  if (path.length === 0) return isJsonObject(value) ? value : undefined;
  let patch: JsonValue = value;
  for (const part of [...path].reverse()) patch = { [part]: patch };
  return objectOf(patch);
}

/** Two patches as one: objects merge member by member, the later value wins otherwise. */
export function mergePatches(into: JsonObject, from: JsonObject): JsonObject {
  const out: JsonObject = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const before = out[key];
    out[key] = isJsonObject(before) && isJsonObject(value) ? mergePatches(before, value) : value;
  }
  return out;
}

export const DESIRED = 'properties.desired';

/**
 * The desired properties each module of an IoT Edge deployment's `modulesContent` sets: the
 * whole document (`properties.desired`) with layered keys (`properties.desired.modules.x`)
 * set on top of it, shallower first. A whole deployment (`system`) sets both system modules.
 */
export function deploymentDesired(
  modules: JsonObject,
  system: boolean,
  onto: Record<string, JsonObject> = {},
): Record<string, JsonObject> {
  const refuse = (message: string): never => {
    throw new HubError('ArgumentInvalid', message);
  };
  if (system)
    for (const name of ['$edgeAgent', '$edgeHub'])
      if (!isJsonObject(modules[name]) || !isJsonObject(modules[name][DESIRED]))
        refuse(
          `modulesContent needs ${name}: {"${DESIRED}": {…}}; an IoT Edge deployment sets both system modules.`,
        );
  const desiredOf: Record<string, JsonObject> = { ...onto };
  for (const [moduleId, content] of Object.entries(modules)) {
    if (!isJsonObject(content))
      return refuse(`modulesContent.${moduleId} is an object of twin paths.`);
    const whole = content[DESIRED];
    if (whole !== undefined && !isJsonObject(whole))
      return refuse(`modulesContent.${moduleId}["${DESIRED}"] is an object.`);
    let desired: JsonObject = whole ? { ...whole } : { ...(desiredOf[moduleId] ?? {}) };
    for (const [key, value] of Object.entries(content).sort(([a], [b]) => a.length - b.length)) {
      if (key === DESIRED) continue;
      const path = desiredPath(key);
      const layer = path && path.length > 0 ? patchAt(path, value) : undefined;
      if (!layer)
        return refuse(
          `modulesContent.${moduleId}: "${key}" is not a twin path; keys are "${DESIRED}" or "${DESIRED}.<path>".`,
        );
      desired = applyObjectPatch(desired, layer);
    }
    const violations = validateSection('desired', desired);
    if (violations.length > 0) throw violationError(violations);
    desiredOf[moduleId] = desired;
  }
  return desiredOf;
}

/** Whether two paths in a twin overlap: one is the other or holds it. */
export const overlaps = (a: string[], b: string[]) =>
  a.slice(0, Math.min(a.length, b.length)).every((part, i) => part === b[i]);
