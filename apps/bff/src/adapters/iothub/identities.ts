import { randomBytes } from 'node:crypto';
import type { DeviceIdentity, ModuleIdentity } from '@twinscope/contract';
import { isJsonObject, jsonOf, objectOf, type JsonObject } from '@twinscope/twin';
import type iothub from 'azure-iothub';
import { AppError } from '../../core/app-error.ts';
import type { CallContext } from '../../core/call-context.ts';
import type {
  BulkItemResult,
  DeviceChange,
  HubIdentities,
  ModuleChange,
  NewDevice,
  NewModule,
} from '../hub-adapter.ts';
import { deviceFromHub, moduleFromHub } from '../twin-mapping.ts';
import { checkIds, type Sdk } from './call.ts';
import { mapHubError, type SdkError } from './errors.ts';
import type { HubParts } from './parts.ts';

/** The bulk registry API takes at most this many devices a call. */
const BULK_LIMIT = 100;

/** An identity's credential as the hub takes it (the SDK's type leaves out `type`). */
type Authentication = iothub.Device.Authentication & {
  type: 'sas' | 'selfSigned' | 'certificateAuthority';
};

function authenticationOf(auth: NewDevice['authentication']): Authentication {
  if (auth.type === 'sas')
    // Empty keys: the hub generates them.
    return {
      type: 'sas',
      symmetricKey: { primaryKey: auth.primaryKey ?? '', secondaryKey: auth.secondaryKey ?? '' },
    };
  if (auth.type === 'selfSigned')
    return {
      type: 'selfSigned',
      x509Thumbprint: {
        primaryThumbprint: auth.primaryThumbprint,
        ...(auth.secondaryThumbprint ? { secondaryThumbprint: auth.secondaryThumbprint } : {}),
      },
    };
  return { type: 'certificateAuthority' };
}

/** A new key in place of `which` of the identity's symmetric keys; refused for X.509 ones. */
function regenerate(
  authentication: iothub.Device.Authentication | undefined,
  which: 'primary' | 'secondary',
  what: string,
): void {
  const keys = authentication?.symmetricKey;
  if (!keys) throw new AppError('bad_request', `${what} does not use symmetric keys.`);
  keys[which === 'primary' ? 'primaryKey' : 'secondaryKey'] = randomBytes(32).toString('base64');
}

/** Its primary key, which only the BFF ever holds; refused for an X.509 identity. */
function primaryKeyOf(identity: unknown, what: string): string {
  const key = objectOf(objectOf(objectOf(identity)['authentication'])['symmetricKey'])[
    'primaryKey'
  ];
  if (typeof key !== 'string' || key === '')
    throw new AppError(
      'bad_request',
      `${what} authenticates with X.509 certificates; it has no key.`,
    );
  return key;
}

/** Device and module identities through the Registry; each change carries the operator's etag. */
export function identityOperations({ calls, clients }: HubParts): HubIdentities {
  const { registry } = clients;
  const moduleName = (deviceId: string, moduleId: string) => `Module ${moduleId} of ${deviceId}`;
  return {
    async getDevice(deviceId: string, context?: CallContext): Promise<DeviceIdentity> {
      checkIds(deviceId);
      return calls.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) =>
        deviceFromHub((await sdk(() => registry.get(deviceId))).responseBody),
      );
    },

    async getModules(deviceId: string, context?: CallContext): Promise<ModuleIdentity[]> {
      checkIds(deviceId);
      return calls.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) =>
        (await sdk(() => registry.getModulesOnDevice(deviceId))).responseBody.map(moduleFromHub),
      );
    },

    async getModule(
      deviceId: string,
      moduleId: string,
      context?: CallContext,
    ): Promise<ModuleIdentity> {
      checkIds(deviceId, moduleId);
      return calls.call(
        moduleName(deviceId, moduleId),
        'read',
        { identity: 1 },
        context,
        async (sdk) =>
          moduleFromHub((await sdk(() => registry.getModule(deviceId, moduleId))).responseBody),
      );
    },

    async createModule(
      deviceId: string,
      module: NewModule,
      context?: CallContext,
    ): Promise<ModuleIdentity> {
      checkIds(deviceId, module.moduleId);
      const created: iothub.Module = {
        deviceId,
        moduleId: module.moduleId,
        ...(module.managedBy ? { managedBy: module.managedBy } : {}),
        authentication: authenticationOf(module.authentication),
      };
      return calls.call(
        moduleName(deviceId, module.moduleId),
        'write',
        { identity: 1 },
        context,
        async (sdk) => moduleFromHub((await sdk(() => registry.addModule(created))).responseBody),
      );
    },

    async updateModule(
      deviceId: string,
      moduleId: string,
      change: ModuleChange,
      etag: string,
      context?: CallContext,
    ): Promise<ModuleIdentity> {
      checkIds(deviceId, moduleId);
      const what = moduleName(deviceId, moduleId);
      // A read of the identity, then its update: two identity operations.
      return calls.call(what, 'write', { identity: 2 }, context, async (sdk) => {
        const { responseBody: current } = await sdk(() => registry.getModule(deviceId, moduleId));
        // The etag the operator saw, not the one just read: the hub refuses a stale one.
        const updated: iothub.Module = { ...current, etag };
        if (change.managedBy !== undefined) updated.managedBy = change.managedBy ?? '';
        if (change.regenerateKey) regenerate(updated.authentication, change.regenerateKey, what);
        return moduleFromHub((await sdk(() => registry.updateModule(updated, false))).responseBody);
      });
    },

    async deleteModule(
      deviceId: string,
      moduleId: string,
      etag: string,
      context?: CallContext,
    ): Promise<void> {
      checkIds(deviceId, moduleId);
      await calls.call(
        moduleName(deviceId, moduleId),
        'write',
        { identity: 1 },
        context,
        async (sdk) => {
          // The SDK's promise form loses its callback when handed a Module (to carry the etag),
          // so this call uses the callback form.
          await sdk(
            () =>
              new Promise<void>((resolve, reject) =>
                registry.removeModule({ deviceId, moduleId, etag }, (error?: Error) =>
                  error ? reject(error) : resolve(),
                ),
              ),
          );
        },
      );
    },

    async createDevice(device: NewDevice, context?: CallContext): Promise<DeviceIdentity> {
      checkIds(device.deviceId);
      const created: iothub.Registry.DeviceDescription = {
        deviceId: device.deviceId,
        status: device.status,
        ...(device.statusReason ? { statusReason: device.statusReason } : {}),
        authentication: authenticationOf(device.authentication),
        capabilities: { iotEdge: device.iotEdge },
      };
      return calls.call(
        `Device ${device.deviceId}`,
        'write',
        { identity: 1 },
        context,
        async (sdk) => deviceFromHub((await sdk(() => registry.create(created))).responseBody),
      );
    },

    async updateDevice(
      deviceId: string,
      change: DeviceChange,
      etag: string,
      context?: CallContext,
    ): Promise<DeviceIdentity> {
      checkIds(deviceId);
      // The identity is read (for what stays as it is) and written back with the etag the
      // operator saw, through the bulk API: the SDK's own update sends If-Match: *.
      return calls.call(`Device ${deviceId}`, 'write', { identity: 3 }, context, async (sdk) => {
        const { responseBody: current } = await sdk(() => registry.get(deviceId));
        if (change.regenerateKey)
          regenerate(current.authentication, change.regenerateKey, `Device ${deviceId}`);
        const next = withDeviceChange(current, change, etag);
        const result = await bulkCall(sdk, () => registry.updateDevices([next], false));
        const refused = bulkResults([deviceId], result)[0]!;
        if (!refused.ok) throw bulkError(refused, `Device ${deviceId}`);
        return deviceFromHub((await sdk(() => registry.get(deviceId))).responseBody);
      });
    },

    async bulkDevices(
      action: 'enable' | 'disable' | 'delete',
      devices: { deviceId: string; etag: string }[],
      statusReason: string | undefined,
      context?: CallContext,
    ): Promise<BulkItemResult[]> {
      for (const { deviceId } of devices) checkIds(deviceId);
      const batches: { deviceId: string; etag: string }[][] = [];
      for (let i = 0; i < devices.length; i += BULK_LIMIT)
        batches.push(devices.slice(i, i + BULK_LIMIT));
      // Deleting needs only the etags; a status change keeps each identity's keys, so each is
      // read first. Everything is counted up front: over budget, nothing is written.
      const reads = action === 'delete' ? 0 : devices.length;
      const cost = { identity: reads + batches.length };
      return calls.call(`${devices.length} devices`, 'write', cost, context, async (sdk) => {
        const results: BulkItemResult[] = [];
        for (const batch of batches) {
          if (action === 'delete') {
            const result = await bulkCall(sdk, () => registry.removeDevices(batch, false));
            results.push(
              ...bulkResults(
                batch.map((d) => d.deviceId),
                result,
              ),
            );
            continue;
          }
          const items: (JsonObject & { deviceId: string })[] = [];
          const missing: BulkItemResult[] = [];
          for (const { deviceId, etag } of batch) {
            try {
              const { responseBody } = await sdk(() => registry.get(deviceId));
              const enable = action === 'enable';
              items.push(
                withDeviceChange(
                  responseBody,
                  {
                    status: enable ? 'enabled' : 'disabled',
                    statusReason: enable ? null : (statusReason ?? null),
                  },
                  etag,
                ),
              );
            } catch (error) {
              const mapped = mapHubError(error, `Device ${deviceId}`);
              if (mapped.code !== 'not_found') throw error;
              missing.push({
                deviceId,
                ok: false,
                error: { code: 'not_found', message: mapped.message },
              });
            }
          }
          if (items.length > 0) {
            const result = await bulkCall(sdk, () => registry.updateDevices(items, false));
            results.push(
              ...bulkResults(
                items.map((i) => i.deviceId),
                result,
              ),
            );
          }
          results.push(...missing);
        }
        return results;
      });
    },

    async deviceConnectionString(deviceId: string, context?: CallContext): Promise<string> {
      checkIds(deviceId);
      return calls.call(`Device ${deviceId}`, 'read', { identity: 1 }, context, async (sdk) => {
        const key = primaryKeyOf(
          (await sdk(() => registry.get(deviceId))).responseBody,
          `Device ${deviceId}`,
        );
        return `HostName=${clients.deviceHost};DeviceId=${deviceId};SharedAccessKey=${key}`;
      });
    },

    async moduleConnectionString(
      deviceId: string,
      moduleId: string,
      context?: CallContext,
    ): Promise<string> {
      checkIds(deviceId, moduleId);
      const what = moduleName(deviceId, moduleId);
      return calls.call(what, 'read', { identity: 1 }, context, async (sdk) => {
        const key = primaryKeyOf(
          (await sdk(() => registry.getModule(deviceId, moduleId))).responseBody,
          what,
        );
        return `HostName=${clients.deviceHost};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
      });
    },
  };
}

/** A device identity as read, with a status change, carrying the etag the operator saw. */
function withDeviceChange(
  current: unknown,
  change: DeviceChange,
  etag: string,
): JsonObject & { deviceId: string } {
  const next = objectOf(jsonOf(current));
  next['etag'] = etag;
  if (change.status !== undefined) next['status'] = change.status;
  if (change.statusReason !== undefined) next['statusReason'] = change.statusReason ?? '';
  // Read-only fields the import format does not take.
  for (const field of [
    'generationId',
    'connectionState',
    'connectionStateUpdatedTime',
    'lastActivityTime',
    'statusUpdatedTime',
    'cloudToDeviceMessageCount',
  ])
    delete next[field];
  return { ...next, deviceId: String(next['deviceId'] ?? '') };
}

/** The hub's error codes for one bulk item, in an operator's words. */
const BULK_ERRORS: Record<string, [string, string]> = {
  PreconditionFailed: ['conflict', 'was changed by someone else since you loaded it'],
  DeviceNotFound: ['not_found', 'was not found on the hub'],
  DeviceAlreadyExists: ['conflict', 'already exists'],
};

/**
 * One bulk registry call. The hub answers 400 with the per-device result when any item was
 * refused; the SDK raises that as an error, so its body is read from there.
 */
async function bulkCall(
  sdk: Sdk,
  start: () => Promise<{ responseBody: unknown }>,
): Promise<unknown> {
  try {
    return (await sdk(start)).responseBody;
  } catch (error) {
    const e: SdkError = error instanceof Error ? error : new Error(String(error));
    // The body arrives as text or as a Buffer, depending on the transport.
    const text = e.responseBody === undefined ? undefined : String(e.responseBody);
    if (e.response?.statusCode === 400 && text) {
      try {
        const body = objectOf(JSON.parse(text));
        if (Array.isArray(body['errors'])) return body;
      } catch {
        // Not a bulk result: the error stands.
      }
    }
    throw error;
  }
}

/** Per device, whether the bulk call applied it (the hub lists only the failures). */
function bulkResults(deviceIds: string[], result: unknown): BulkItemResult[] {
  const errors = objectOf(result)['errors'];
  const failures = new Map(
    (Array.isArray(errors) ? errors.filter(isJsonObject) : []).map((e) => [
      String(e['deviceId'] ?? ''),
      e,
    ]),
  );
  return deviceIds.map((deviceId) => {
    const failure = failures.get(deviceId);
    if (!failure) return { deviceId, ok: true };
    const errorCode = typeof failure['errorCode'] === 'string' ? failure['errorCode'] : undefined;
    const [code, words] = BULK_ERRORS[errorCode ?? ''] ?? [
      'hub_error',
      `was refused by the hub (${errorCode ?? 'unknown error'})`,
    ];
    return { deviceId, ok: false, error: { code, message: `Device ${deviceId} ${words}.` } };
  });
}

function bulkError(result: BulkItemResult, what: string): AppError {
  const code = result.error?.code;
  return new AppError(
    code === 'conflict' || code === 'not_found' ? code : 'hub_error',
    result.error?.message ?? `${what} was refused by the hub.`,
  );
}
