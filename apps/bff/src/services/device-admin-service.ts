import type {
  BulkDeviceRequest,
  BulkDeviceResult,
  DeviceCreateRequest,
  DeviceIdentity,
  DeviceUpdateRequest,
} from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited, failureOutcome } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { IdentityListener } from './module-service.ts';

/**
 * Device identity lifecycle (Admin): create, enable or disable with a reason, regenerate a
 * key, reveal the connection string, delete, and the same in bulk. Every write is audited;
 * every change carries the etag the operator saw.
 */
export class DeviceAdminService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly listener: IdentityListener,
    private readonly audit: AuditTrail,
  ) {}

  async create(
    request: DeviceCreateRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<DeviceIdentity> {
    const device = await audited(
      this.audit,
      {
        actor,
        action: 'device.create',
        target: { deviceId: request.deviceId },
        // What kind of credential, never the keys or thumbprints themselves.
        change: {
          authentication: request.authentication.type,
          iotEdge: request.iotEdge,
          status: request.status,
          ...(request.statusReason ? { statusReason: request.statusReason } : {}),
        },
      },
      () =>
        this.hub.createDevice(
          {
            deviceId: request.deviceId,
            authentication: request.authentication,
            iotEdge: request.iotEdge,
            status: request.status,
            ...(request.statusReason ? { statusReason: request.statusReason } : {}),
          },
          context,
        ),
      (created) => ({ etag: created.etag }),
    );
    this.listener.identityChanged('created', request.deviceId);
    return device;
  }

  update(
    deviceId: string,
    request: DeviceUpdateRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<DeviceIdentity> {
    const change = {
      ...(request.status !== undefined ? { status: request.status } : {}),
      ...(request.statusReason !== undefined ? { statusReason: request.statusReason } : {}),
      ...(request.regenerateKey ? { regenerateKey: request.regenerateKey } : {}),
    };
    return audited(
      this.audit,
      {
        actor,
        action: 'device.update',
        target: { deviceId },
        change,
        before: { etag: request.etag },
      },
      () => this.hub.updateDevice(deviceId, change, request.etag, context),
      (updated) => ({ etag: updated.etag }),
    );
  }

  async delete(
    deviceId: string,
    etag: string | undefined,
    actor: Actor,
    context: CallContext,
  ): Promise<void> {
    if (!etag)
      throw new AppError(
        'validation_failed',
        'Deleting a device needs its etag, so a device changed meanwhile is not deleted blindly.',
      );
    await audited(
      this.audit,
      { actor, action: 'device.delete', target: { deviceId }, change: {}, before: { etag } },
      async () => {
        const [result] = await this.hub.bulkDevices(
          'delete',
          [{ deviceId, etag }],
          undefined,
          context,
        );
        if (result && !result.ok)
          throw new AppError(
            result.error?.code === 'not_found' ? 'not_found' : 'conflict',
            result.error?.message ?? `Device ${deviceId} was not deleted.`,
          );
      },
    );
    this.listener.identityChanged('deleted', deviceId);
  }

  /**
   * Disables, enables or deletes many devices through the bulk registry API. Each device
   * gets its own audit record and its own result; one refused device does not stop the rest.
   */
  async bulk(
    request: BulkDeviceRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<BulkDeviceResult[]> {
    const action = request.action === 'delete' ? 'device.delete' : 'device.update';
    const change =
      request.action === 'delete'
        ? {}
        : {
            status: request.action === 'enable' ? 'enabled' : 'disabled',
            ...(request.action === 'disable' && request.statusReason
              ? { statusReason: request.statusReason }
              : {}),
            bulk: true,
          };
    const begun = await this.audit.beginMany(
      request.devices.map(({ deviceId, etag }) => ({
        actor,
        action,
        target: { deviceId },
        change,
        before: { etag },
      })),
    );
    const records = new Map(request.devices.map(({ deviceId }, i) => [deviceId, begun[i]!]));
    let results: BulkDeviceResult[];
    try {
      results = await this.hub.bulkDevices(
        request.action,
        request.devices,
        request.statusReason,
        context,
      );
    } catch (error) {
      const outcome = failureOutcome(error);
      await Promise.all([...records.values()].map((record) => record.end(outcome)));
      throw error;
    }
    await Promise.all(
      results.map((result) =>
        records
          .get(result.deviceId)
          ?.end(
            result.ok
              ? { result: 'succeeded' }
              : { result: 'refused', ...(result.error ? { error: result.error } : {}) },
          ),
      ),
    );
    for (const result of results)
      if (result.ok && request.action === 'delete')
        this.listener.identityChanged('deleted', result.deviceId);
    return results;
  }

  connectionString(deviceId: string, actor: Actor, context: CallContext): Promise<string> {
    return audited(
      this.audit,
      { actor, action: 'device.reveal-connection-string', target: { deviceId }, change: {} },
      () => this.hub.deviceConnectionString(deviceId, context),
    );
  }
}
