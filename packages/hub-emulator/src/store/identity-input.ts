import { randomBytes } from 'node:crypto';
import {
  IDENTITY_ID_RULE,
  isIdentityId,
  isJsonObject,
  stripReadOnly,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Authentication, AuthType } from './model.ts';
import { TWIN_IDENTITY_FIELDS } from './twin-render.ts';

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

function parseStatus(value: JsonValue | undefined): 'enabled' | 'disabled' {
  if (value === undefined || value === null) return 'enabled';
  if (typeof value === 'string' && /^(enabled|disabled)$/i.test(value)) {
    return value.toLowerCase() as 'enabled' | 'disabled';
  }
  throw new HubError('ArgumentInvalid', 'status must be "enabled" or "disabled".');
}

function parseStatusReason(value: JsonValue | undefined): string | null {
  const reason = optionalString(value, 'statusReason');
  if (reason !== null && reason.length > 128) {
    throw new HubError('ArgumentInvalid', 'statusReason is limited to 128 characters.');
  }
  return reason;
}

function requireObject(body: JsonValue | undefined, what: string): JsonObject {
  if (!isJsonObject(body))
    throw new HubError('ArgumentInvalid', `The request body must be a ${what} object.`);
  return body;
}

/** The id in the body must agree with the id in the URL, when the body names one. */
function checkBodyId(body: JsonObject, field: 'deviceId' | 'moduleId', expected: string): void {
  const given = body[field];
  if (given !== undefined && given !== null && given !== expected) {
    throw new HubError(
      'ArgumentInvalid',
      `${field} in the body (${JSON.stringify(given)}) does not match the ${field} in the URL.`,
    );
  }
}

/** What a device identity request sets: the settable fields, checked. */
export interface DeviceInput {
  status: 'enabled' | 'disabled';
  statusReason: string | null;
  authentication: Authentication;
  iotEdge: boolean;
  deviceScope?: string;
  parentScopes: string[];
}

/** What a module identity request sets. */
export interface ModuleInput {
  managedBy: string | null;
  authentication: Authentication;
}

/** A twin write (PATCH or PUT): tags and/or desired; null clears a section. */
export interface TwinWrite {
  tags?: JsonObject | null;
  desired?: JsonObject | null;
}

/** `PUT /devices/{id}` (and bulk items): the device's settable fields. */
export function parseDeviceInput(input: JsonValue | undefined, deviceId: string): DeviceInput {
  checkId('device', deviceId);
  const body = requireObject(input, 'device');
  checkBodyId(body, 'deviceId', deviceId);
  const capabilities = body['capabilities'];
  const scope = body['deviceScope'];
  const parents = body['parentScopes'];
  return {
    status: parseStatus(body['status']),
    statusReason: parseStatusReason(body['statusReason']),
    authentication: parseAuthentication(body['authentication']),
    iotEdge: isJsonObject(capabilities) && capabilities['iotEdge'] === true,
    ...(typeof scope === 'string' && scope ? { deviceScope: scope } : {}),
    parentScopes: Array.isArray(parents)
      ? parents.filter((p): p is string => typeof p === 'string')
      : [],
  };
}

function parseManagedBy(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > 128) {
    throw new HubError('ArgumentInvalid', 'managedBy must be a string of at most 128 characters.');
  }
  return value;
}

/** `PUT /devices/{id}/modules/{mid}` (and bulk items): the module's settable fields. */
export function parseModuleInput(
  input: JsonValue | undefined,
  deviceId: string,
  moduleId: string,
): ModuleInput {
  checkId('module', moduleId);
  const body = requireObject(input, 'module');
  checkBodyId(body, 'deviceId', deviceId);
  checkBodyId(body, 'moduleId', moduleId);
  return {
    managedBy: parseManagedBy(body['managedBy']),
    authentication: parseAuthentication(body['authentication']),
  };
}

// Clients may echo a twin's read-only root fields in a patch; they are ignored.
const TWIN_ROOT_FIELDS: ReadonlySet<string> = new Set(TWIN_IDENTITY_FIELDS);

/** `PATCH`/`PUT /twins/{id}`: only tags and properties.desired can be written. */
export function parseTwinWrite(input: JsonValue | undefined): TwinWrite {
  const body = requireObject(input, 'twin');
  for (const key of Object.keys(body)) {
    if (key !== 'tags' && key !== 'properties' && !TWIN_ROOT_FIELDS.has(key)) {
      throw new HubError(
        'ArgumentInvalid',
        `Unknown twin field '${key}': only tags and properties.desired can be written.`,
      );
    }
  }
  const out: TwinWrite = {};
  const tags = body['tags'];
  if (tags !== undefined) {
    if (tags !== null && !isJsonObject(tags))
      throw new HubError('ArgumentInvalid', 'tags must be an object.');
    out.tags = tags;
  }
  const properties = body['properties'];
  if (properties !== undefined && properties !== null) {
    if (!isJsonObject(properties))
      throw new HubError('ArgumentInvalid', 'properties must be an object.');
    for (const key of Object.keys(properties)) {
      // The service writes a twin's mutable fields only: reported properties a client sends
      // along (.NET serializes every Twin with them, from a twin it read or empty) are
      // ignored, as IoT Hub ignores them; only the device or module writes them.
      if (key === 'reported') continue;
      if (key !== 'desired')
        throw new HubError('ArgumentInvalid', `Unknown properties section '${key}'.`);
    }
    const desired = properties['desired'];
    if (desired !== undefined) {
      if (desired !== null && !isJsonObject(desired)) {
        throw new HubError('ArgumentInvalid', 'properties.desired must be an object.');
      }
      out.desired = desired === null ? null : stripReadOnly(desired);
    }
  }
  return out;
}

/** A reported-properties patch from a device or module (MQTT, AMQP). */
export function parseReportedPatch(input: JsonValue): JsonObject {
  if (!isJsonObject(input))
    throw new HubError('ArgumentInvalid', 'A reported patch must be a JSON object.');
  return stripReadOnly(input);
}
