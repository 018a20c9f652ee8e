import type { ModuleCreateRequest, ModuleIdentity, ModuleUpdateRequest } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { RESERVED_MODULES } from '../adapters/twin-mapping.ts';
import { AppError } from '../http/app-error.ts';

export interface IdentityListener {
  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void;
}

function refuseReserved(moduleId: string): void {
  if (RESERVED_MODULES.has(moduleId) || moduleId.startsWith('$')) {
    throw new AppError(
      'forbidden',
      `${moduleId} is an IoT Edge system module: IoT Edge deployments manage it, so it cannot be created, changed or deleted here.`,
    );
  }
}

/** Module identity lifecycle, as in the how-to's back end: add, update, remove, connect. */
export class ModuleService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly listener: IdentityListener,
  ) {}

  async create(deviceId: string, request: ModuleCreateRequest): Promise<ModuleIdentity> {
    refuseReserved(request.moduleId);
    const module = await this.hub.createModule(deviceId, {
      moduleId: request.moduleId,
      ...(request.managedBy ? { managedBy: request.managedBy } : {}),
      authentication: request.authentication,
    });
    this.listener.identityChanged('created', deviceId, request.moduleId);
    return module;
  }

  async update(
    deviceId: string,
    moduleId: string,
    request: ModuleUpdateRequest,
  ): Promise<ModuleIdentity> {
    refuseReserved(moduleId);
    return this.hub.updateModule(
      deviceId,
      moduleId,
      {
        ...(request.managedBy !== undefined ? { managedBy: request.managedBy } : {}),
        ...(request.regenerateKey ? { regenerateKey: request.regenerateKey } : {}),
      },
      request.etag,
    );
  }

  async delete(deviceId: string, moduleId: string, etag: string | undefined): Promise<void> {
    refuseReserved(moduleId);
    if (!etag)
      throw new AppError(
        'validation_failed',
        'Deleting a module needs its etag, so a module changed meanwhile is not deleted blindly.',
      );
    await this.hub.deleteModule(deviceId, moduleId, etag);
    this.listener.identityChanged('deleted', deviceId, moduleId);
  }

  connectionString(deviceId: string, moduleId: string): Promise<string> {
    return this.hub.moduleConnectionString(deviceId, moduleId);
  }
}
