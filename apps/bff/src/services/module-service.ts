import type { ModuleCreateRequest, ModuleIdentity, ModuleUpdateRequest } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

export interface IdentityListener {
  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void;
}

/** Module identity lifecycle, as in the how-to's back end: add, update, remove, connect. */
export class ModuleService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly listener: IdentityListener,
    private readonly audit: AuditTrail,
  ) {}

  async create(
    deviceId: string,
    request: ModuleCreateRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<ModuleIdentity> {
    const module = await audited(
      this.audit,
      {
        actor,
        action: 'module.create',
        target: { deviceId, moduleId: request.moduleId },
        // What kind of credential, never the keys or thumbprints themselves.
        change: {
          authentication: request.authentication.type,
          ...(request.managedBy ? { managedBy: request.managedBy } : {}),
        },
      },
      () =>
        this.hub.createModule(
          deviceId,
          {
            moduleId: request.moduleId,
            ...(request.managedBy ? { managedBy: request.managedBy } : {}),
            authentication: request.authentication,
          },
          context,
        ),
      (created) => ({ etag: created.etag }),
    );
    this.listener.identityChanged('created', deviceId, request.moduleId);
    return module;
  }

  async update(
    deviceId: string,
    moduleId: string,
    request: ModuleUpdateRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<ModuleIdentity> {
    const change = {
      ...(request.managedBy !== undefined ? { managedBy: request.managedBy } : {}),
      ...(request.regenerateKey ? { regenerateKey: request.regenerateKey } : {}),
    };
    return audited(
      this.audit,
      {
        actor,
        action: 'module.update',
        target: { deviceId, moduleId },
        change,
        before: { etag: request.etag },
      },
      () => this.hub.updateModule(deviceId, moduleId, change, request.etag, context),
      (updated) => ({ etag: updated.etag }),
    );
  }

  async delete(
    deviceId: string,
    moduleId: string,
    etag: string | undefined,
    actor: Actor,
    context: CallContext,
  ): Promise<void> {
    if (!etag)
      throw new AppError(
        'validation_failed',
        'Deleting a module needs its etag, so a module changed meanwhile is not deleted blindly.',
      );
    await audited(
      this.audit,
      {
        actor,
        action: 'module.delete',
        target: { deviceId, moduleId },
        change: {},
        before: { etag },
      },
      () => this.hub.deleteModule(deviceId, moduleId, etag, context),
    );
    this.listener.identityChanged('deleted', deviceId, moduleId);
  }

  connectionString(
    deviceId: string,
    moduleId: string,
    actor: Actor,
    context: CallContext,
  ): Promise<string> {
    return audited(
      this.audit,
      {
        actor,
        action: 'module.reveal-connection-string',
        target: { deviceId, moduleId },
        change: {},
      },
      () => this.hub.moduleConnectionString(deviceId, moduleId, context),
    );
  }
}
