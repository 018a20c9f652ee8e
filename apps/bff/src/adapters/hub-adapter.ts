import type { DeviceIdentity, ModuleIdentity, Twin } from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';

export interface QueryPage {
  items: unknown[];
  continuation?: string;
}

/** What the BFF needs from IoT Hub. Only adapters know which SDK answers it. */
export interface HubAdapter {
  readonly hostName: string;
  readonly isEmulator: boolean;
  query(sql: string, options: { pageSize?: number; continuation?: string }): Promise<QueryPage>;
  getDevice(deviceId: string): Promise<DeviceIdentity>;
  getModules(deviceId: string): Promise<ModuleIdentity[]>;
  getModule(deviceId: string, moduleId: string): Promise<ModuleIdentity>;
  getTwin(deviceId: string, moduleId?: string): Promise<Twin>;
  /** PATCH with If-Match: the hub refuses it if the twin changed since `etag`. */
  patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    patch: JsonObject,
    etag: string,
  ): Promise<Twin>;
  createModule(deviceId: string, module: NewModule): Promise<ModuleIdentity>;
  /** Changes settable fields with If-Match on the identity's etag. */
  updateModule(
    deviceId: string,
    moduleId: string,
    change: ModuleChange,
    etag: string,
  ): Promise<ModuleIdentity>;
  deleteModule(deviceId: string, moduleId: string, etag: string): Promise<void>;
  /** The module's primary connection string; only the BFF ever holds the key. */
  moduleConnectionString(deviceId: string, moduleId: string): Promise<string>;
}

export interface NewModule {
  moduleId: string;
  managedBy?: string;
  authentication:
    | { type: 'sas'; primaryKey?: string; secondaryKey?: string }
    | { type: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string };
}

export interface ModuleChange {
  managedBy?: string | null;
  regenerateKey?: 'primary' | 'secondary';
}
