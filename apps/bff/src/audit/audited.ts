import type { AuditEntry } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import type { AuditTrail } from './audit-trail.ts';
import type { AuditOutcome, AuditStart } from './records.ts';

/** How a write that threw is recorded: refused by a rule, failed, or of unknown outcome. */
export function failureOutcome(error: unknown): AuditOutcome {
  const code = error instanceof AppError ? error.code : 'internal_error';
  const refused = [
    'conflict',
    'twin_rule_violation',
    'forbidden',
    'bad_request',
    'validation_failed',
    'not_found',
    'throttled',
  ];
  return {
    // A write whose answer never came may have been applied: say so, not "failed".
    result: refused.includes(code)
      ? 'refused'
      : code === 'outcome_unknown' || code === 'device_timeout'
        ? 'unknown'
        : 'failed',
    error: {
      code,
      message: error instanceof AppError ? error.message : 'The write failed.',
    },
  };
}

/** Runs a write between its attempt and outcome records. */
export async function audited<T>(
  trail: AuditTrail,
  start: AuditStart,
  write: () => Promise<T>,
  after: (result: T) => AuditEntry['after'] = () => undefined,
  response: (result: T) => AuditEntry['response'] = () => undefined,
): Promise<T> {
  const record = await trail.begin(start);
  try {
    const result = await write();
    const versions = after(result);
    const answered = response(result);
    await record.end({
      result: 'succeeded',
      ...(versions ? { after: versions } : {}),
      ...(answered ? { response: answered } : {}),
    });
    return result;
  } catch (error) {
    await record.end(failureOutcome(error));
    throw error;
  }
}
