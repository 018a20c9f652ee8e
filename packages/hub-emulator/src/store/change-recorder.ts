import type { JsonObject } from '@twinscope/twin';
import type { ChangeEvent } from './change-log.ts';
import type { IdentityRecord } from './model.ts';
import { renderTwin } from './twin-render.ts';

/** A change as the registry records it; the change log numbers it when it is committed. */
export type RecordedChange = Omit<ChangeEvent, 'sequenceNumber'>;

const who = (record: IdentityRecord) => ({
  deviceId: record.deviceId,
  ...(record.moduleId !== undefined ? { moduleId: record.moduleId } : {}),
});

/** A device or module identity created or deleted, in IoT Hub's lifecycle-event shape. */
export function lifecycleChange(
  record: IdentityRecord,
  opType: 'createDeviceIdentity' | 'deleteDeviceIdentity',
  at: string,
): RecordedChange {
  const twin = renderTwin(record);
  return {
    enqueuedTime: at,
    source: 'deviceLifecycleEvents',
    opType,
    ...who(record),
    body: {
      deviceId: twin['deviceId'] ?? null,
      ...(record.moduleId !== undefined ? { moduleId: record.moduleId } : {}),
      etag: twin['etag'] ?? null,
      version: twin['version'] ?? null,
      properties: twin['properties'] ?? null,
    },
  };
}

/**
 * A twin change in IoT Hub's twin-change-event shape (`body`: the changed sections or the
 * whole twin), with the desired patch a connected device is sent, when desired changed.
 */
export function twinChange(
  record: IdentityRecord,
  at: string,
  opType: 'updateTwin' | 'replaceTwin',
  body: JsonObject,
  desiredPatch?: JsonObject,
): RecordedChange {
  return {
    enqueuedTime: at,
    source: 'twinChangeEvents',
    opType,
    ...who(record),
    body,
    ...(desiredPatch ? { desiredPatch } : {}),
  };
}

/** A device-to-cloud message or module output event. */
export function telemetryChange(
  deviceId: string,
  moduleId: string | undefined,
  at: string,
  payload: Buffer,
  properties: Record<string, string>,
): RecordedChange {
  return {
    enqueuedTime: at,
    source: 'Telemetry',
    opType: 'deviceTelemetry',
    deviceId,
    ...(moduleId !== undefined ? { moduleId } : {}),
    body: {},
    message: { payload, properties },
  };
}

/**
 * A device or module connected or disconnected, in IoT Hub's connection-state-event shape:
 * the body is a sequence number, 64 hex digits, strictly increasing and string-comparable.
 */
export function connectionStateChange(
  record: IdentityRecord,
  connected: boolean,
  sequence: number,
  at: string,
): RecordedChange {
  return {
    enqueuedTime: at,
    source: 'deviceConnectionStateEvents',
    opType: connected ? 'deviceConnected' : 'deviceDisconnected',
    ...who(record),
    body: { sequenceNumber: sequence.toString(16).padStart(64, '0') },
  };
}
