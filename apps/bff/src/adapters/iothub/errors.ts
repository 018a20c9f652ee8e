import { AppError } from '../../core/app-error.ts';

/** What azure-iothub raises: its error classes carry the HTTP answer, when there was one. */
export interface SdkError extends Error {
  code?: string;
  responseBody?: string | Buffer;
  response?: { statusCode?: number; headers?: Record<string, string | undefined> };
}

/** Failures before a request reached the hub: nothing can have changed. */
export const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ENETUNREACH',
]);
/** Failures after it may have: a write's outcome is unknown. */
const CUT_OFF = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** A hub call is a read (safe to abandon and repeat) or a write (its outcome matters). */
export type CallKind = 'read' | 'write';

export const UNKNOWN_OUTCOME =
  'so whether the change was applied is unknown. The page reloads it as it is now: check it before trying again.';

/** The hub's own words from an error body (`ErrorCode:X;text`), without tracking noise. */
function hubMessage(error: SdkError): string {
  return error.message && error.message !== 'Error'
    ? error.message
    : 'The hub refused the request.';
}

function retryAfterSeconds(error: SdkError): number | undefined {
  const header = error.response?.headers?.['retry-after'];
  const seconds = header === undefined ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** Maps what azure-iothub raises to the contract's codes; never passes SDK internals on. */
export function mapHubError(error: unknown, what: string, kind: CallKind = 'read'): AppError {
  if (error instanceof AppError) return error;
  const e = error as SdkError;
  const status = e.response?.statusCode;
  switch (e.constructor?.name) {
    case 'DeviceNotFoundError':
      return new AppError('not_found', `${what} was not found on the hub.`);
    case 'InvalidEtagError':
      return new AppError('conflict', `${what} was changed by someone else since you loaded it.`);
    case 'DeviceAlreadyExistsError':
      return new AppError('conflict', `${what} already exists.`);
    case 'ArgumentError':
      return new AppError('bad_request', `The hub refused the request: ${hubMessage(e)}`);
    case 'UnauthorizedError':
      // Kept as the cause so the BFF's log says what the hub refused (never the token).
      return new AppError(
        'hub_error',
        "The hub refused Twinscope's credentials (expired or missing permission). Ask an administrator to check the BFF's hub connection.",
        { cause: error },
      );
    case 'DeviceMaximumQueueDepthExceededError':
      return new AppError(
        'conflict',
        `${what} already has 50 messages waiting, the most IoT Hub queues; nothing was sent. Purge the queue or wait for the device.`,
      );
    case 'MessageTooLargeError':
      return new AppError('bad_request', 'IoT Hub refused the message: it is over 64 KB.');
    case 'GatewayTimeoutError':
      return new AppError(
        'device_timeout',
        `${what} did not answer in time; whether it acted on the call is unknown.`,
      );
    case 'ThrottlingError':
      return new AppError('throttled', 'The hub is throttling requests; try again shortly.', {
        ...(retryAfterSeconds(e) !== undefined ? { retryAfterSeconds: retryAfterSeconds(e)! } : {}),
      });
    default:
      break;
  }
  if (status === 404 && /DeviceNotOnline/.test(String(e.responseBody ?? '')))
    return new AppError(
      'device_offline',
      `${what} is not connected, or does not listen for direct methods.`,
    );
  if (status === 404) return new AppError('not_found', `${what} was not found on the hub.`);
  if (e.code && NOT_SENT.has(e.code)) {
    return new AppError(
      'hub_unreachable',
      'The IoT hub cannot be reached right now; nothing was changed.',
    );
  }
  if (e.code && CUT_OFF.has(e.code)) {
    return kind === 'write'
      ? new AppError(
          'outcome_unknown',
          `The connection to the IoT hub broke mid-write, ${UNKNOWN_OUTCOME}`,
        )
      : new AppError('hub_unreachable', 'The connection to the IoT hub broke; try again shortly.');
  }
  if (status !== undefined && status >= 500) {
    return kind === 'write'
      ? new AppError(
          'outcome_unknown',
          `The IoT hub answered ${status} to a write, ${UNKNOWN_OUTCOME}`,
        )
      : new AppError('hub_unreachable', `The IoT hub answered ${status}. Try again shortly.`);
  }
  return new AppError('hub_error', 'The IoT hub request failed.', { cause: error });
}

/** How an operator reads which twin an error is about. */
export function twinName(deviceId: string, moduleId: string | undefined): string {
  return moduleId === undefined
    ? `The twin of ${deviceId}`
    : `The twin of module ${moduleId} of ${deviceId}`;
}
