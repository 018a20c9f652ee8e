// What a new device or module identity is before anyone sets anything, and how its etags
// and generation id are written. Pure: the registry's counter supplies the numbers.
import { emptySection } from '@twinscope/twin';
import { NEVER_TIME, type Authentication, type IdentityRecord } from './model.ts';

/** The modules IoT Hub creates with every IoT Edge device. */
export const EDGE_SYSTEM_MODULES = ['$edgeAgent', '$edgeHub'] as const;

/** What IoT Hub gives them: no keys of their own (the Edge device's own identity serves). */
export const NO_KEYS: Authentication = {
  type: 'none',
  symmetricKey: { primaryKey: null, secondaryKey: null },
  x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
};

/** An identity's etag: its counter value as text, base64. */
export const identityEtag = (counter: number): string =>
  Buffer.from(String(counter)).toString('base64');

/** A twin's etag: the counter as eight big-endian bytes, base64. */
export function twinEtag(counter: number): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(counter));
  return bytes.toString('base64');
}

/** A generation id as IoT Hub writes one (.NET ticks), unique by the counter within a tick. */
export function generationId(at: Date, counter: number): string {
  const ticks = BigInt(at.getTime()) * 10_000n + 621_355_968_000_000_000n;
  return `${ticks + BigInt(counter % 10_000)}`;
}

/** A new identity: enabled, never connected, with an empty twin at version 1. */
export function newIdentityRecord(
  deviceId: string,
  moduleId: string | undefined,
  authentication: Authentication,
  stamps: { generationId: string; etag: string; twinEtag: string },
): IdentityRecord {
  return {
    deviceId,
    ...(moduleId !== undefined ? { moduleId } : {}),
    generationId: stamps.generationId,
    etag: stamps.etag,
    status: 'enabled',
    statusReason: null,
    statusUpdatedTime: NEVER_TIME,
    connectionState: 'Disconnected',
    connectionStateUpdatedTime: NEVER_TIME,
    lastActivityTime: NEVER_TIME,
    cloudToDeviceMessageCount: 0,
    authentication,
    twin: {
      version: 1,
      etag: stamps.twinEtag,
      tags: {},
      desired: emptySection(),
      reported: emptySection(),
      modelId: '',
    },
  };
}
