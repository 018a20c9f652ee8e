import {
  isJsonObject,
  jsonOf,
  validateSectionPatch,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { parsePrecondition } from '../http/precondition.ts';
import type { Operation } from '../http/operation.ts';
import { parseDeviceInput, parseModuleInput, parseTwinWrite } from '../store/identity-input.ts';
import type { Registry } from '../store/registry.ts';

interface BulkError {
  deviceId: string;
  moduleId?: string;
  errorCode: string;
  errorStatus: string;
  operation?: string;
}

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

function applyItem(
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

export const bulkOperations: Operation[] = [
  {
    name: 'bulk-registry',
    method: 'POST',
    path: '/devices',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    handle({ registry, body }) {
      if (!Array.isArray(body) || body.length < 1 || body.length > 100) {
        throw new HubError('ArgumentInvalid', 'A bulk request takes an array of 1 to 100 devices.');
      }
      const errors: BulkError[] = [];
      registry.batch(() => {
        for (const item of body) {
          const deviceId = isJsonObject(item) && typeof item['id'] === 'string' ? item['id'] : '';
          const moduleId =
            isJsonObject(item) && typeof item['moduleId'] === 'string'
              ? item['moduleId']
              : undefined;
          const mode =
            isJsonObject(item) && typeof item['importMode'] === 'string'
              ? item['importMode'].toLowerCase()
              : '';
          try {
            if (!isJsonObject(item) || !deviceId)
              throw new HubError('ArgumentInvalid', 'Each item needs an id.');
            applyItem(registry, item, deviceId, moduleId, mode);
          } catch (error) {
            if (!(error instanceof HubError)) throw error;
            errors.push({
              deviceId,
              ...(moduleId !== undefined ? { moduleId } : {}),
              errorCode: error.code,
              errorStatus: error.message,
              ...(mode ? { operation: mode } : {}),
            });
          }
        }
      });
      const result = {
        isSuccessful: errors.length === 0,
        errors: jsonOf(errors),
        warnings: [],
      };
      return { status: errors.length === 0 ? 200 : 400, body: result };
    },
  },
];
