// Writes to device and module identities: create, update and delete, each IoT Hub's checks
// (existence, limits, If-Match) around one commit with its lifecycle events.
import { patchSection } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { lifecycleChange } from './change-recorder.ts';
import type { DeviceInput, ModuleInput } from './identity-input.ts';
import type { IdentityRecord } from './model.ts';
import { EDGE_SYSTEM_MODULES, NO_KEYS } from './identity-records.ts';
import { matches, RegistryBase, type Precondition } from './registry-base.ts';

export class IdentityRegistry extends RegistryBase {
  /**
   * `PUT /devices/{id}` without If-Match: create. An IoT Edge device comes with its
   * `$edgeAgent` and `$edgeHub` module identities, without keys of their own, as the hub
   * creates them.
   */
  createDevice(deviceId: string, input: DeviceInput): IdentityRecord {
    if (this.hasDevice(deviceId)) {
      throw new HubError(
        'DeviceAlreadyExists',
        `A device with ID '${deviceId}' is already registered.`,
      );
    }
    const record = this.newRecord(deviceId, undefined, input);
    const modules = new Map<string, IdentityRecord>();
    if (input.iotEdge)
      for (const moduleId of EDGE_SYSTEM_MODULES)
        modules.set(
          moduleId,
          this.newRecord(deviceId, moduleId, { managedBy: null, authentication: NO_KEYS }),
        );
    this.addDevice(record, modules);
    const created = [record, ...modules.values()];
    const at = this.now();
    this.commit(
      created.map((put) => ({ put })),
      created.map((identity) => lifecycleChange(identity, 'createDeviceIdentity', at)),
    );
    return record;
  }

  /** `PUT /devices/{id}` with If-Match: a full replace of the identity's settable fields. */
  updateDevice(deviceId: string, input: DeviceInput, precondition: Precondition): IdentityRecord {
    const current = this.entry(deviceId).device;
    if (!matches(current.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of device ${deviceId} does not match.`);
    }
    const next: IdentityRecord = {
      ...current,
      statusUpdatedTime: input.status !== current.status ? this.now() : current.statusUpdatedTime,
      etag: this.identityEtag(),
    };
    this.applyDevice(next, input);
    this.store(next);
    this.commit([{ put: next }]);
    return next;
  }

  deleteDevice(deviceId: string, precondition: Precondition): void {
    const entry = this.entry(deviceId);
    if (!matches(entry.device.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of device ${deviceId} does not match.`);
    }
    this.removeDevice(deviceId);
    this.commit(
      [{ delete: { deviceId } }],
      [lifecycleChange(entry.device, 'deleteDeviceIdentity', this.now())],
    );
  }

  createModule(deviceId: string, moduleId: string, input: ModuleInput): IdentityRecord {
    const entry = this.entry(deviceId);
    if (entry.modules.has(moduleId)) {
      throw new HubError(
        'ModuleAlreadyExistsOnDevice',
        `A module with ID '${moduleId}' is already registered on device '${deviceId}'.`,
      );
    }
    if (entry.modules.size >= 50) {
      throw new HubError(
        'ArgumentInvalid',
        `Device ${deviceId} already has 50 modules, the most IoT Hub allows.`,
      );
    }
    const record = this.newRecord(deviceId, moduleId, input);
    // The Edge runtime creates a deployment's modules: each starts with its part of it.
    const deployed = entry.device.modulesContent?.[moduleId];
    if (deployed) {
      record.twin.desired = patchSection(record.twin.desired, deployed, {
        at: this.now(),
        trackVersion: true,
      });
      record.twin.version++;
    }
    this.addModule(moduleId, record);
    this.commit([{ put: record }], [lifecycleChange(record, 'createDeviceIdentity', this.now())]);
    return record;
  }

  updateModule(
    deviceId: string,
    moduleId: string,
    input: ModuleInput,
    precondition: Precondition,
  ): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    if (!matches(current.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of module ${moduleId} does not match.`);
    }
    const next: IdentityRecord = {
      ...current,
      managedBy: input.managedBy,
      authentication: input.authentication,
      etag: this.identityEtag(),
    };
    this.store(next);
    this.commit([{ put: next }]);
    return next;
  }

  deleteModule(deviceId: string, moduleId: string, precondition: Precondition): void {
    const current = this.get(deviceId, moduleId);
    if (!matches(current.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of module ${moduleId} does not match.`);
    }
    this.removeModule(deviceId, moduleId);
    this.commit(
      [{ delete: { deviceId, moduleId } }],
      [lifecycleChange(current, 'deleteDeviceIdentity', this.now())],
    );
  }
}
