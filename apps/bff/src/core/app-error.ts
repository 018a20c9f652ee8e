import type { ApiErrorCode, Twin, Violation } from '@twinscope/contract';

/** Which guard refused a request: its role under the policy, its CSRF token, its Origin, its Host. */
export type SecurityCheck = 'policy' | 'csrf' | 'origin' | 'host';

const STATUS: Record<ApiErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  twin_rule_violation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  misdirected_request: 421,
  conflict: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  throttled: 429,
  hub_error: 502,
  hub_unreachable: 503,
  database_unavailable: 503,
  // A feature the deployment has not configured, as twin history without its endpoint.
  file_upload_not_configured: 404,
  storage_unavailable: 503,
  outcome_unknown: 504,
  device_offline: 404,
  device_timeout: 504,
  model_not_found: 404,
  model_invalid: 422,
  model_repository_unavailable: 503,
  internal_error: 500,
};

/** The one error type of the BFF: a contract code, an operator-facing message, extras. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extras: {
      violations?: Violation[];
      current?: Twin;
      retryAfterSeconds?: number;
      cause?: unknown;
      /** A guard refused the request: it is logged and counted as a security event. */
      refusedBy?: SecurityCheck;
    } = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }
}
