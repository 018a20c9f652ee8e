import { randomUUID } from 'node:crypto';
import { parseJson, type JsonObject, type JsonValue } from '@twinscope/twin';

/**
 * An error as the Device Provisioning Service answers it: an HTTP status and the service's
 * six-digit code (its first three digits are the status), a message, a tracking id.
 */
export class ProvisioningError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
    /** Seconds before trying again (a 429, an operation still running). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  body(): JsonObject {
    return {
      errorCode: this.errorCode,
      trackingId: randomUUID(),
      message: this.message,
      timestampUtc: new Date().toISOString(),
    };
  }
}

export const unauthorized = (message: string) => new ProvisioningError(401, 401002, message);
export const notFound = (message: string) => new ProvisioningError(404, 404201, message);
export const preconditionFailed = (message: string) => new ProvisioningError(412, 412002, message);

/** What a transport answers for any failure: the service's error, or a 500 saying so. */
export function asProvisioningError(caught: unknown): ProvisioningError {
  return caught instanceof ProvisioningError
    ? caught
    : new ProvisioningError(
        500,
        500000,
        'The emulator failed to process the provisioning request.',
      );
}

/** Seconds a device is asked to wait before polling its operation. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The device's `payload` from a registration request's body as MQTT and AMQP carry it (JSON
 * text, or nothing: .NET sends no registration id, C the whole request again).
 */
export function registrationPayload(text: string): JsonValue | undefined {
  if (text.trim() === '') return undefined;
  let parsed: JsonValue;
  try {
    parsed = parseJson(text);
  } catch {
    throw new ProvisioningError(400, 400004, 'The registration request is not valid JSON.');
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? parsed['payload']
    : undefined;
}
