export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text into the workspace's JSON type; throws as JSON.parse does. */
export function parseJson(text: string): JsonValue {
  // JSON.parse answers any; what it returns is JSON by definition, so it is typed so here, once.
  return JSON.parse(text);
}

/** A value as JSON would carry it (undefined members dropped, dates as text): for typed data written to JSON columns. */
export function jsonOf(value: unknown): JsonValue {
  return parseJson(JSON.stringify(value) ?? 'null');
}

/**
 * Whether a value is JSON all the way down (what JSON.parse gives: null, booleans, finite
 * numbers, strings, arrays and plain objects), read without recursion so depth costs nothing.
 */
export function isJsonValue(value: unknown): value is JsonValue {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item === 'string' || typeof item === 'boolean') continue;
    if (typeof item === 'number') {
      if (!Number.isFinite(item)) return false;
      continue;
    }
    if (Array.isArray(item)) {
      pending.push(...item);
      continue;
    }
    if (typeof item !== 'object') return false;
    const prototype: unknown = Object.getPrototypeOf(item);
    if (prototype !== Object.prototype && prototype !== null) return false;
    for (const key of Object.keys(item)) pending.push((item as Record<string, unknown>)[key]);
  }
  return true;
}

/**
 * Sets a member as data, whatever its name: `__proto__` from JSON.parse is an ordinary key
 * of a twin, and a plain assignment would change the object's prototype instead.
 */
/** The value when it is a JSON object, else an empty one (for reading JSON that may be anything). */
export function objectOf(value: unknown): JsonObject {
  return isJsonObject(value) ? value : {};
}

/** The value when it is a string. */
export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A member only if the object itself has it: never one from the prototype chain. */
export function own(source: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined;
}

export function deepEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
}

/** A JSON path an operator can read: `properties.desired.telemetry["bad.key"]`. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}
