import type { z } from 'zod';
import { AppError } from '../core/app-error.ts';

/**
 * Parses with a contract schema; a failure is a 400 that names each field, in the words of
 * where it came from (`desired.a`, `query parameter before`, `path parameter deviceId`).
 */
function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  name: (path: string) => string,
  unrecognised?: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const violations = result.error.issues.map((issue) => ({
    path: name(issue.path.join('.')),
    message:
      issue.code === 'unrecognized_keys' && unrecognised
        ? `${issue.message}. ${unrecognised}`
        : issue.message,
  }));
  throw new AppError(
    'validation_failed',
    violations.map((v) => `${v.path}: ${v.message}`).join('; '),
    { violations },
  );
}

/** A request body; `unrecognised` says what the body may hold instead of an unknown field. */
export function bodyOf<T extends z.ZodType>(body: unknown, schema: T, unrecognised?: string) {
  return parse(schema, body, (path) => path || '(body)', unrecognised);
}

/** A query string, each problem named by its parameter. */
export function queryOf<T extends z.ZodType>(query: unknown, schema: T) {
  return parse(schema, query, (path) => (path ? `query parameter ${path}` : 'the query string'));
}

/** One path parameter (`:deviceId`). */
export function paramOf<T extends z.ZodType>(
  params: Record<string, unknown>,
  name: string,
  schema: T,
) {
  return parse(schema, params[name], () => `path parameter ${name}`);
}
