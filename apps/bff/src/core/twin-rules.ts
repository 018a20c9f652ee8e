import type { TwinViolation } from '@twinscope/twin';
import { AppError } from './app-error.ts';

/** IoT Hub's twin rules broken by a change, as one error naming the first few. */
export function twinRuleError(violations: readonly TwinViolation[], what = 'The change'): AppError {
  return new AppError(
    'twin_rule_violation',
    `${what} breaks IoT Hub's twin rules: ${violations
      .slice(0, 3)
      .map((v) => `${v.path}: ${v.message}`)
      .join('; ')}`,
    { violations: violations.map(({ path, message }) => ({ path, message })) },
  );
}
