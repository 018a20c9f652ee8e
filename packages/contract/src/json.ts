import { isJsonObject, isJsonValue, type JsonObject, type JsonValue } from '@twinscope/twin';
import { z } from 'zod';

/**
 * The workspace's one JSON type: these schemas check a value is JSON and yield
 * packages/twin's `JsonValue` and `JsonObject`, so what the contract parses is what the twin
 * logic takes, with no cast between them. The value passes through unchanged (a key named
 * `__proto__` stays an ordinary key).
 */
export const JsonValueSchema = z.custom<JsonValue>(isJsonValue, 'Expected a JSON value.');

/** A JSON object as it travels in twins (values are any JSON). */
export const JsonObjectSchema = z.custom<JsonObject>(
  (value) => isJsonObject(value) && isJsonValue(value),
  'Expected a JSON object.',
);
