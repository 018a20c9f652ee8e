import type { DeviceIdentity, ModuleIdentity, Twin } from '@twinscope/contract';

type Raw = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const obj = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

export const RESERVED_MODULES = new Set(['$edgeAgent', '$edgeHub']);

/** A twin as the console sees it; identity extras (keys, thumbprints) are dropped. */
export function twinFromHub(raw: unknown): Twin {
  const twin = obj(
    typeof (raw as { toJSON?: unknown })?.toJSON === 'function'
      ? (raw as { toJSON(): unknown }).toJSON()
      : raw,
  );
  const properties = obj(twin['properties']);
  const moduleId = str(twin['moduleId']);
  return {
    deviceId: str(twin['deviceId']) ?? '',
    ...(moduleId ? { moduleId } : {}),
    etag: str(twin['etag']) ?? '',
    version: typeof twin['version'] === 'number' ? twin['version'] : 0,
    ...(str(twin['status']) ? { status: str(twin['status'])! } : {}),
    ...(str(twin['connectionState']) ? { connectionState: str(twin['connectionState'])! } : {}),
    ...(str(twin['lastActivityTime']) ? { lastActivityTime: str(twin['lastActivityTime'])! } : {}),
    ...(str(twin['modelId']) !== undefined ? { modelId: str(twin['modelId'])! } : {}),
    tags: obj(twin['tags']),
    properties: { desired: obj(properties['desired']), reported: obj(properties['reported']) },
  };
}

function authenticationType(raw: Raw): string {
  return str(obj(raw['authentication'])['type']) ?? 'sas';
}

/** A device identity without its keys: they never leave the BFF. */
export function deviceFromHub(raw: unknown): DeviceIdentity {
  const device = obj(raw);
  return {
    deviceId: str(device['deviceId']) ?? '',
    generationId: str(device['generationId']) ?? '',
    etag: str(device['etag']) ?? '',
    status: str(device['status']) ?? 'enabled',
    statusReason: str(device['statusReason']) ?? null,
    connectionState: str(device['connectionState']) ?? 'Disconnected',
    ...(str(device['connectionStateUpdatedTime'])
      ? { connectionStateUpdatedTime: str(device['connectionStateUpdatedTime'])! }
      : {}),
    ...(str(device['lastActivityTime'])
      ? { lastActivityTime: str(device['lastActivityTime'])! }
      : {}),
    cloudToDeviceMessageCount:
      typeof device['cloudToDeviceMessageCount'] === 'number'
        ? device['cloudToDeviceMessageCount']
        : 0,
    authenticationType: authenticationType(device),
    iotEdge: obj(device['capabilities'])['iotEdge'] === true,
    ...(str(device['deviceScope']) ? { deviceScope: str(device['deviceScope'])! } : {}),
    parentScopes: Array.isArray(device['parentScopes'])
      ? device['parentScopes'].filter((scope): scope is string => typeof scope === 'string')
      : [],
  };
}

/** A module identity without its keys. */
export function moduleFromHub(raw: unknown): ModuleIdentity {
  const module = obj(raw);
  const moduleId = str(module['moduleId']) ?? '';
  return {
    deviceId: str(module['deviceId']) ?? '',
    moduleId,
    generationId: str(module['generationId']) ?? '',
    etag: str(module['etag']) ?? '',
    managedBy: str(module['managedBy']) ?? null,
    connectionState: str(module['connectionState']) ?? 'Disconnected',
    ...(str(module['connectionStateUpdatedTime'])
      ? { connectionStateUpdatedTime: str(module['connectionStateUpdatedTime'])! }
      : {}),
    ...(str(module['lastActivityTime'])
      ? { lastActivityTime: str(module['lastActivityTime'])! }
      : {}),
    authenticationType: authenticationType(module),
    reserved: RESERVED_MODULES.has(moduleId),
  };
}
