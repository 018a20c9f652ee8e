import { renderSection, type JsonObject } from '@twinscope/twin';
import type { IdentityRecord } from './model.ts';

/** The read-only fields at a twin's root, next to `tags` and `properties`. */
export const TWIN_IDENTITY_FIELDS = [
  'deviceId',
  'moduleId',
  'etag',
  'deviceEtag',
  'version',
  'status',
  'statusReason',
  'statusUpdateTime',
  'connectionState',
  'lastActivityTime',
  'cloudToDeviceMessageCount',
  'authenticationType',
  'x509Thumbprint',
  'modelId',
  'capabilities',
  'deviceScope',
  'parentScopes',
] as const;

/** The twin as the service API returns it (`GET /twins/{id}`, query `SELECT *`). */
export function renderTwin(record: IdentityRecord): JsonObject {
  const twin: JsonObject = { deviceId: record.deviceId };
  if (record.moduleId !== undefined) twin['moduleId'] = record.moduleId;
  Object.assign(twin, {
    etag: record.twin.etag,
    deviceEtag: record.etag,
    status: record.status,
    statusReason: record.statusReason,
    statusUpdateTime: record.statusUpdatedTime,
    connectionState: record.connectionState,
    lastActivityTime: record.lastActivityTime,
    cloudToDeviceMessageCount: record.cloudToDeviceMessageCount,
    authenticationType: record.authentication.type,
    x509Thumbprint: { ...record.authentication.x509Thumbprint },
    modelId: record.twin.modelId,
    version: record.twin.version,
    tags: record.twin.tags,
    properties: {
      desired: renderSection(record.twin.desired),
      reported: renderSection(record.twin.reported),
    },
  });
  const configurations = record.twin.configurations;
  if (configurations && Object.keys(configurations).length > 0)
    twin['configurations'] = structuredClone(configurations);
  if (record.moduleId === undefined) {
    twin['capabilities'] = { iotEdge: record.capabilities?.iotEdge ?? false };
    if (record.deviceScope) twin['deviceScope'] = record.deviceScope;
    twin['parentScopes'] = record.parentScopes ?? [];
  }
  return twin;
}
