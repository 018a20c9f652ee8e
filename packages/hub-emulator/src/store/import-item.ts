// One line of a bulk registry request or an import file, applied by its `importMode` as IoT
// Hub applies it: whole or not at all, the twin's part checked before anything is written.
// Shared by the bulk API (`POST /devices`) and the import job.
import {
  isJsonObject,
  validateSectionPatch,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { parseDeviceInput, parseModuleInput, parseTwinWrite } from './identity-input.ts';
import { parsePrecondition } from './precondition.ts';
import type { Registry } from './registry.ts';

const IDENTITY_FIELDS = [
  'authentication',
  'status',
  'statusReason',
  'capabilities',
  'deviceScope',
  'parentScopes',
  'managedBy',
];

function identityBody(item: JsonObject, deviceId: string, moduleId?: string): JsonObject {
  const body: JsonObject = { deviceId };
  if (moduleId !== undefined) body['moduleId'] = moduleId;
  for (const field of IDENTITY_FIELDS) if (item[field] !== undefined) body[field] = item[field]!;
  return body;
}

function twinPatch(item: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  if (isJsonObject(item['tags'])) patch['tags'] = item['tags'];
  const properties = item['properties'];
  if (isJsonObject(properties) && isJsonObject(properties['desired'])) {
    patch['properties'] = { desired: properties['desired'] };
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** The hub reads property names case-insensitively (the SDK sends `etag`, the schema says `eTag`). */
function field(item: JsonObject, name: string): JsonValue | undefined {
  const key = Object.keys(item).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : item[key];
}

export function applyImportItem(
  registry: Registry,
  item: JsonObject,
  deviceId: string,
  moduleId: string | undefined,
  mode: string,
): void {
  const body = identityBody(item, deviceId, moduleId);
  const patch = twinPatch(item);
  // Check the twin part before anything is written, so an item is applied whole or not at all.
  const tags = isJsonObject(patch?.['tags']) ? patch['tags'] : {};
  const properties = patch?.['properties'];
  const desired =
    isJsonObject(properties) && isJsonObject(properties['desired']) ? properties['desired'] : {};
  const violations = [
    ...validateSectionPatch('tags', tags),
    ...validateSectionPatch('desired', desired),
  ];
  if (violations[0])
    throw new HubError('ArgumentInvalid', `${violations[0].path}: ${violations[0].message}`);
  const exists = registry.find(deviceId, moduleId) !== undefined;
  const create = () =>
    moduleId === undefined
      ? registry.createDevice(deviceId, parseDeviceInput(body, deviceId))
      : registry.createModule(deviceId, moduleId, parseModuleInput(body, deviceId, moduleId));
  const update = (etag: string) =>
    moduleId === undefined
      ? registry.updateDevice(deviceId, parseDeviceInput(body, deviceId), etag)
      : registry.updateModule(deviceId, moduleId, parseModuleInput(body, deviceId, moduleId), etag);
  const remove = (etag: string) =>
    moduleId === undefined
      ? registry.deleteDevice(deviceId, etag)
      : registry.deleteModule(deviceId, moduleId, etag);
  const requireEtag = (value: JsonValue | undefined, field: string) => {
    const etag = typeof value === 'string' && value ? parsePrecondition(value) : undefined;
    if (!etag) throw new HubError('ArgumentInvalid', `importMode ${mode} needs ${field}.`);
    return etag;
  };
  switch (mode) {
    case 'create':
      create();
      break;
    case 'createorupdate':
      if (exists) update('*');
      else create();
      break;
    case 'update':
      update('*');
      break;
    case 'updateifmatchetag':
      update(requireEtag(field(item, 'eTag'), 'eTag'));
      break;
    case 'delete':
      remove('*');
      return;
    case 'deleteifmatchetag':
      remove(requireEtag(field(item, 'eTag'), 'eTag'));
      return;
    case 'updatetwin':
      registry.patchTwin(deviceId, moduleId, parseTwinWrite(patch ?? {}), '*');
      return;
    case 'updatetwinifmatchetag':
      registry.patchTwin(
        deviceId,
        moduleId,
        parseTwinWrite(patch ?? {}),
        requireEtag(field(item, 'twinETag'), 'twinETag'),
      );
      return;
    default:
      throw new HubError(
        'ArgumentInvalid',
        `Unknown importMode ${JSON.stringify(item['importMode'])}.`,
      );
  }
  if (patch) registry.patchTwin(deviceId, moduleId, parseTwinWrite(patch), '*');
}
