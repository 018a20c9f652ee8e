import {
  isEdgeSystemModule,
  type DeviceIdentity,
  type ModuleIdentity,
  type Twin,
} from '@twinscope/contract';
import { objectOf, stringOf } from '@twinscope/twin';

type Raw = Record<string, unknown>;

/** A twin as the console sees it; identity extras (keys, thumbprints) are dropped. */
export function twinFromHub(raw: unknown): Twin {
  const twin = objectOf(
    typeof (raw as { toJSON?: unknown })?.toJSON === 'function'
      ? (raw as { toJSON(): unknown }).toJSON()
      : raw,
  );
  const properties = objectOf(twin['properties']);
  const moduleId = stringOf(twin['moduleId']);
  return {
    deviceId: stringOf(twin['deviceId']) ?? '',
    ...(moduleId ? { moduleId } : {}),
    etag: stringOf(twin['etag']) ?? '',
    version: typeof twin['version'] === 'number' ? twin['version'] : 0,
    ...(stringOf(twin['status']) ? { status: stringOf(twin['status'])! } : {}),
    ...(stringOf(twin['connectionState'])
      ? { connectionState: stringOf(twin['connectionState'])! }
      : {}),
    ...(stringOf(twin['lastActivityTime'])
      ? { lastActivityTime: stringOf(twin['lastActivityTime'])! }
      : {}),
    ...(stringOf(twin['modelId']) !== undefined ? { modelId: stringOf(twin['modelId'])! } : {}),
    tags: objectOf(twin['tags']),
    properties: {
      desired: objectOf(properties['desired']),
      reported: objectOf(properties['reported']),
    },
  };
}

function authenticationType(raw: Raw): string {
  return stringOf(objectOf(raw['authentication'])['type']) ?? 'sas';
}

/** A device identity without its keys: they never leave the BFF. */
export function deviceFromHub(raw: unknown): DeviceIdentity {
  const device = objectOf(raw);
  return {
    deviceId: stringOf(device['deviceId']) ?? '',
    generationId: stringOf(device['generationId']) ?? '',
    etag: stringOf(device['etag']) ?? '',
    status: stringOf(device['status']) ?? 'enabled',
    statusReason: stringOf(device['statusReason']) ?? null,
    connectionState: stringOf(device['connectionState']) ?? 'Disconnected',
    ...(stringOf(device['connectionStateUpdatedTime'])
      ? { connectionStateUpdatedTime: stringOf(device['connectionStateUpdatedTime'])! }
      : {}),
    ...(stringOf(device['lastActivityTime'])
      ? { lastActivityTime: stringOf(device['lastActivityTime'])! }
      : {}),
    cloudToDeviceMessageCount:
      typeof device['cloudToDeviceMessageCount'] === 'number'
        ? device['cloudToDeviceMessageCount']
        : 0,
    authenticationType: authenticationType(device),
    iotEdge: objectOf(device['capabilities'])['iotEdge'] === true,
    ...(stringOf(device['deviceScope']) ? { deviceScope: stringOf(device['deviceScope'])! } : {}),
    parentScopes: Array.isArray(device['parentScopes'])
      ? device['parentScopes'].filter((scope): scope is string => typeof scope === 'string')
      : [],
  };
}

/** A module identity without its keys. */
export function moduleFromHub(raw: unknown): ModuleIdentity {
  const module = objectOf(raw);
  const moduleId = stringOf(module['moduleId']) ?? '';
  return {
    deviceId: stringOf(module['deviceId']) ?? '',
    moduleId,
    generationId: stringOf(module['generationId']) ?? '',
    etag: stringOf(module['etag']) ?? '',
    managedBy: stringOf(module['managedBy']) ?? null,
    connectionState: stringOf(module['connectionState']) ?? 'Disconnected',
    ...(stringOf(module['connectionStateUpdatedTime'])
      ? { connectionStateUpdatedTime: stringOf(module['connectionStateUpdatedTime'])! }
      : {}),
    ...(stringOf(module['lastActivityTime'])
      ? { lastActivityTime: stringOf(module['lastActivityTime'])! }
      : {}),
    authenticationType: authenticationType(module),
    reserved: isEdgeSystemModule(moduleId),
  };
}
