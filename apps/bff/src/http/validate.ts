import type { z } from 'zod';
import { AppError } from '../core/app-error.ts';

/** Parses with a contract schema; a failure is a 400 that names each field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const violations = result.error.issues.map((issue) => ({
    path: issue.path.join('.') || '(body)',
    message:
      issue.code === 'unrecognized_keys'
        ? `${issue.message}. Only tags and desired properties can be changed here.`
        : issue.message,
  }));
  throw new AppError(
    'validation_failed',
    violations.map((v) => `${v.path}: ${v.message}`).join('; '),
    { violations },
  );
}
