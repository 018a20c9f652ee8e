import type { JsonObject, SectionState } from '@twinscope/twin';

export type AuthType = 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';

/** A type, not an interface, so it is JSON as it is (its fields are all JSON). */
export type Authentication = {
  type: AuthType;
  symmetricKey: { primaryKey: string | null; secondaryKey: string | null };
  x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
};

export interface TwinState {
  version: number;
  /** Opaque, changes on every twin change. */
  etag: string;
  tags: JsonObject;
  desired: SectionState;
  reported: SectionState;
  modelId: string;
  /** Automatic configurations that target this twin, and whether each applied. */
  configurations?: Record<string, { status: 'Targeted' | 'Applied' }>;
}

/** A device or a module identity with its twin, as the emulator stores it. */
export interface IdentityRecord {
  deviceId: string;
  moduleId?: string;
  generationId: string;
  etag: string;
  status: 'enabled' | 'disabled';
  statusReason: string | null;
  statusUpdatedTime: string;
  connectionState: 'Connected' | 'Disconnected';
  connectionStateUpdatedTime: string;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authentication: Authentication;
  /** Devices only. */
  capabilities?: { iotEdge: boolean };
  deviceScope?: string;
  parentScopes?: string[];
  /** Modules only. */
  managedBy?: string | null;
  /**
   * IoT Edge devices: the desired properties per module of the content last applied to the
   * device (`applyConfigurationContent`); a module created later starts with its part.
   */
  modulesContent?: Record<string, JsonObject>;
  twin: TwinState;
}

export const NEVER_TIME = '0001-01-01T00:00:00Z';

/** The identity as the REST API returns it (`/devices/{id}` or `/devices/{id}/modules/{mid}`). */
export function renderIdentity(record: IdentityRecord): JsonObject {
  const common = {
    deviceId: record.deviceId,
    generationId: record.generationId,
    etag: record.etag,
    connectionState: record.connectionState,
    connectionStateUpdatedTime: record.connectionStateUpdatedTime,
    lastActivityTime: record.lastActivityTime,
    cloudToDeviceMessageCount: record.cloudToDeviceMessageCount,
    authentication: { ...record.authentication },
  };
  if (record.moduleId !== undefined) {
    return { moduleId: record.moduleId, managedBy: record.managedBy ?? null, ...common };
  }
  return {
    ...common,
    status: record.status,
    statusReason: record.statusReason,
    statusUpdatedTime: record.statusUpdatedTime,
    capabilities: { iotEdge: record.capabilities?.iotEdge ?? false },
    ...(record.deviceScope ? { deviceScope: record.deviceScope } : {}),
    parentScopes: record.parentScopes ?? [],
  };
}
