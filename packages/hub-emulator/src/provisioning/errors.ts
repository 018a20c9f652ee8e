import { randomUUID } from 'node:crypto';
import type { JsonObject } from '@twinscope/twin';

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
