import { randomBytes } from 'node:crypto';
import {
  IDENTITY_ID_RULE,
  isIdentityId,
  isJsonObject,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Authentication, AuthType } from './model.ts';

export function checkId(kind: 'device' | 'module', id: string): void {
  if (!isIdentityId(id)) {
    const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
    throw new HubError(
      'ArgumentInvalid',
      `The ${kind} ID ${JSON.stringify(shown)} is invalid: use ${IDENTITY_ID_RULE}.`,
    );
  }
}

const AUTH_TYPES: readonly AuthType[] = ['sas', 'selfSigned', 'certificateAuthority', 'none'];
const THUMBPRINT = /^([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/;

export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

function optionalString(value: JsonValue | undefined, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') {
    throw new HubError('ArgumentInvalid', `${field} must be a string.`);
  }
  return value;
}

function checkKey(key: string, field: string): void {
  const bytes = Buffer.from(key, 'base64');
  if (bytes.toString('base64') !== key || bytes.length < 16 || bytes.length > 64) {
    throw new HubError('ArgumentInvalid', `${field} must be a base64 key of 16 to 64 bytes.`);
  }
}

/**
 * Validates the `authentication` of a device or module and fills in keys the request left
 * empty, as IoT Hub does.
 */
export function parseAuthentication(value: JsonValue | undefined): Authentication {
  const input = value === undefined || value === null ? {} : value;
  if (!isJsonObject(input))
    throw new HubError('ArgumentInvalid', 'authentication must be an object.');
  const symmetric = input['symmetricKey'] ?? {};
  const thumbprint = input['x509Thumbprint'] ?? {};
  if (!isJsonObject(symmetric) || !isJsonObject(thumbprint)) {
    throw new HubError(
      'ArgumentInvalid',
      'authentication.symmetricKey and x509Thumbprint must be objects.',
    );
  }
  const primaryThumbprint = optionalString(thumbprint['primaryThumbprint'], 'primaryThumbprint');
  const secondaryThumbprint = optionalString(
    thumbprint['secondaryThumbprint'],
    'secondaryThumbprint',
  );
  const rawType = input['type'] ?? (primaryThumbprint ? 'selfSigned' : 'sas');
  const type = AUTH_TYPES.find(
    (t) => typeof rawType === 'string' && t.toLowerCase() === rawType.toLowerCase(),
  );
  if (!type) {
    throw new HubError(
      'ArgumentInvalid',
      `authentication.type must be one of ${AUTH_TYPES.join(', ')}.`,
    );
  }
  const result: Authentication = {
    type,
    symmetricKey: { primaryKey: null, secondaryKey: null },
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
  };
  if (type === 'sas') {
    const primaryKey = optionalString(symmetric['primaryKey'], 'primaryKey');
    const secondaryKey = optionalString(symmetric['secondaryKey'], 'secondaryKey');
    if (primaryKey) checkKey(primaryKey, 'primaryKey');
    if (secondaryKey) checkKey(secondaryKey, 'secondaryKey');
    result.symmetricKey = {
      primaryKey: primaryKey ?? generateKey(),
      secondaryKey: secondaryKey ?? generateKey(),
    };
  } else if (type === 'selfSigned') {
    for (const [field, print] of [
      ['primaryThumbprint', primaryThumbprint],
      ['secondaryThumbprint', secondaryThumbprint],
    ] as const) {
      if (print !== null && !THUMBPRINT.test(print)) {
        throw new HubError(
          'ArgumentInvalid',
          `${field} must be a SHA-1 or SHA-256 thumbprint in hex.`,
        );
      }
    }
    if (!primaryThumbprint) {
      throw new HubError('ArgumentInvalid', 'A self-signed identity needs a primary thumbprint.');
    }
    result.x509Thumbprint = { primaryThumbprint, secondaryThumbprint };
  }
  return result;
}

export function parseStatus(value: JsonValue | undefined): 'enabled' | 'disabled' {
  if (value === undefined || value === null) return 'enabled';
  if (typeof value === 'string' && /^(enabled|disabled)$/i.test(value)) {
    return value.toLowerCase() as 'enabled' | 'disabled';
  }
  throw new HubError('ArgumentInvalid', 'status must be "enabled" or "disabled".');
}

export function parseStatusReason(value: JsonValue | undefined): string | null {
  const reason = optionalString(value, 'statusReason');
  if (reason !== null && reason.length > 128) {
    throw new HubError('ArgumentInvalid', 'statusReason is limited to 128 characters.');
  }
  return reason;
}

export function requireObject(body: JsonValue | undefined, what: string): JsonObject {
  if (!isJsonObject(body))
    throw new HubError('ArgumentInvalid', `The request body must be a ${what} object.`);
  return body;
}

/** The id in the body must agree with the id in the URL, when the body names one. */
export function checkBodyId(
  body: JsonObject,
  field: 'deviceId' | 'moduleId',
  expected: string,
): void {
  const given = body[field];
  if (given !== undefined && given !== null && given !== expected) {
    throw new HubError(
      'ArgumentInvalid',
      `${field} in the body (${JSON.stringify(given)}) does not match the ${field} in the URL.`,
    );
  }
}
