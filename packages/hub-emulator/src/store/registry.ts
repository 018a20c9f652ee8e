// Long on purpose: this is the registry's whole write surface (identities, twins, the device
// side, seeding), each write a few lines of IoT Hub's rules around one commit, and they share
// one set of invariants (the index, the counters, one commit per write). What is not that
// lives beside it: reads in identity-index.ts, durability in transactions.ts, and the pure
// rules in twin-writes.ts, device-scopes.ts and identity-records.ts.
import {
  IDENTITY_ID_PATTERN,
  minimalPatch,
  patchSection,
  validateSection,
  type JsonObject,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { ChangeLog } from './change-log.ts';
import {
  connectionStateChange,
  lifecycleChange,
  telemetryChange,
  twinChange,
} from './change-recorder.ts';
import {
  parseAuthentication,
  type DeviceInput,
  type ModuleInput,
  type TwinWrite,
} from './identity-input.ts';
import type { IdentityRecord } from './model.ts';
import { IdentityIndex } from './identity-index.ts';
import {
  EDGE_SYSTEM_MODULES,
  generationId,
  identityEtag,
  newIdentityRecord,
  NO_KEYS,
  twinEtag,
} from './identity-records.ts';
import type { Persistence } from './persistence.ts';
import { Transactions } from './transactions.ts';
import { renderTwin } from './twin-render.ts';
import { applyDeviceInput, deviceIdOfEdgeScope } from './device-scopes.ts';
import { patchedTwin, replacedTwin, reportedTwin, violationError } from './twin-writes.ts';

/** A precondition from If-Match: undefined (none), '*' (any), or an etag. */
export type Precondition = string | undefined;

export type { RegistryStatistics } from './identity-index.ts';

function matches(etag: string, precondition: Precondition): boolean {
  return precondition === undefined || precondition === '*' || precondition === etag;
}

/**
 * The identity registry and twins: state and IoT Hub's rules, transport free. Requests are
 * parsed before they get here (`identity-input.ts`), and the changes it records are shaped
 * by `change-recorder.ts`. Each successful write is committed to persistence, with its
 * change events, before it returns.
 */
export class Registry extends IdentityIndex {
  private readonly transactions: Transactions;

  constructor(
    private readonly persistence: Persistence,
    readonly changes: ChangeLog = new ChangeLog(),
    private readonly clock: () => Date = () => new Date(),
  ) {
    super();
    this.transactions = new Transactions(persistence, changes, () => this.reload());
    this.reload();
  }

  private reload(): void {
    const loaded = this.persistence.load();
    this.transactions.restart(loaded.counters);
    for (const record of loaded.records) {
      // Nothing is connected to a hub that just started.
      record.connectionState = 'Disconnected';
    }
    this.reset(loaded.records);
  }

  private commit(...change: Parameters<Transactions['commit']>): void {
    this.transactions.commit(...change);
  }

  /**
   * Runs several writes as one durable transaction: the callback's commits are gathered
   * and written together, so a crash keeps all of them or none.
   */
  batch<T>(work: () => T): T {
    return this.transactions.batch(work);
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private identityEtag(): string {
    return identityEtag(this.transactions.next());
  }

  private twinEtag(): string {
    return twinEtag(this.transactions.next());
  }

  get sequenceNumber(): number {
    return this.transactions.sequence;
  }

  // ---- identities --------------------------------------------------------------------

  private newRecord(
    deviceId: string,
    moduleId: string | undefined,
    input: DeviceInput | ModuleInput,
  ): IdentityRecord {
    const record = newIdentityRecord(deviceId, moduleId, input.authentication, {
      generationId: generationId(this.clock(), this.transactions.next()),
      etag: this.identityEtag(),
      twinEtag: this.twinEtag(),
    });
    if ('managedBy' in input) record.managedBy = input.managedBy;
    else this.applyDevice(record, input);
    return record;
  }

  /** Whether a scope is an IoT Edge device's, while it still has that scope. */
  private isEdgeScope(scope: string): boolean {
    const id = deviceIdOfEdgeScope(scope);
    const device = id === undefined ? undefined : this.find(id);
    return device?.capabilities?.iotEdge === true && device.deviceScope === scope;
  }

  private applyDevice(record: IdentityRecord, input: DeviceInput): void {
    applyDeviceInput(record, input, (scope) => this.isEdgeScope(scope));
  }

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

  /**
   * `applyConfigurationContent` on an IoT Edge device: each module's desired properties
   * become what the content says (keys it leaves out are removed), for the modules the device
   * has now; the content is kept, so a module created later (by the Edge runtime) starts
   * with its part. Everything is checked before anything is written.
   */
  applyModulesContent(deviceId: string, content: Record<string, JsonObject>): void {
    const entry = this.entry(deviceId);
    if (!entry.device.capabilities?.iotEdge)
      throw new HubError(
        'ArgumentInvalid',
        `Device ${deviceId} is not an IoT Edge device; modules content applies to IoT Edge devices only.`,
      );
    for (const [moduleId, desired] of Object.entries(content)) {
      if (!IDENTITY_ID_PATTERN.test(moduleId))
        throw new HubError('ArgumentInvalid', `"${moduleId}" is not a valid module id.`);
      const violations = validateSection('desired', desired);
      if (violations.length > 0) throw violationError(violations);
    }
    this.batch(() => {
      for (const [moduleId, desired] of Object.entries(content)) {
        const module = entry.modules.get(moduleId);
        if (!module) continue;
        const patch = minimalPatch(module.twin.desired.values, desired);
        if (Object.keys(patch).length > 0)
          this.patchTwin(deviceId, moduleId, { desired: patch }, undefined);
      }
      const device = { ...entry.device, modulesContent: content };
      this.store(device);
      this.commit([{ put: device }]);
    });
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

  // ---- twins -------------------------------------------------------------------------

  private twinPrecondition(record: IdentityRecord, precondition: Precondition): void {
    if (!matches(record.twin.etag, precondition)) {
      const who =
        record.moduleId === undefined ? `device ${record.deviceId}` : `module ${record.moduleId}`;
      throw new HubError(
        'PreconditionFailed',
        `The twin etag of ${who} does not match; it was changed by someone else.`,
      );
    }
  }

  /** `PATCH /twins/{id}`: merge tags and desired properties; null deletes. */
  patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    patch: TwinWrite,
    precondition: Precondition,
  ): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    this.twinPrecondition(current, precondition);
    if (patch.tags === undefined && patch.desired === undefined) return current;
    const at = this.now();
    const { twin, body, desiredPatch } = patchedTwin(current.twin, patch, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'updateTwin', body, desiredPatch);
  }

  /** `PUT /twins/{id}`: replace tags and desired properties wholesale. */
  replaceTwin(
    deviceId: string,
    moduleId: string | undefined,
    replacement: TwinWrite,
    precondition: Precondition,
  ): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    this.twinPrecondition(current, precondition);
    const at = this.now();
    const { twin, desiredPatch } = replacedTwin(current.twin, replacement, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'replaceTwin', renderTwin(next), desiredPatch);
  }

  /** A reported-properties patch from the device or module itself (parsed by the transport). */
  patchReported(deviceId: string, moduleId: string | undefined, patch: JsonObject): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    const at = this.now();
    const { twin, body } = reportedTwin(current.twin, patch, at);
    const next = { ...current, twin: { ...twin, etag: this.twinEtag() } };
    return this.twinChanged(next, at, 'updateTwin', body);
  }

  /** Stores a changed twin and records the change, as one durable step. */
  private twinChanged(
    next: IdentityRecord,
    at: string,
    opType: 'updateTwin' | 'replaceTwin',
    body: JsonObject,
    desiredPatch?: JsonObject,
  ): IdentityRecord {
    this.store(next);
    this.commit([{ put: next }], [twinChange(next, at, opType, body, desiredPatch)]);
    return next;
  }

  /**
   * Which automatic configurations target a twin and whether each applied (the hub's
   * `configurations` member): no new twin version, as on IoT Hub.
   */
  setConfigurations(
    deviceId: string,
    moduleId: string | undefined,
    configurations: Record<string, { status: 'Targeted' | 'Applied' }>,
  ): void {
    const current = this.find(deviceId, moduleId);
    if (!current) return;
    const next: IdentityRecord = {
      ...current,
      twin: {
        ...current.twin,
        ...(Object.keys(configurations).length > 0 ? { configurations } : {}),
      },
    };
    if (Object.keys(configurations).length === 0) delete next.twin.configurations;
    this.store(next);
    this.commit([{ put: next }]);
  }

  // ---- the device side ---------------------------------------------------------------

  /** A device or module connected or went away (MQTT); kept durably like IoT Hub does. */
  setConnectionState(deviceId: string, moduleId: string | undefined, connected: boolean): void {
    const current = this.find(deviceId, moduleId);
    if (!current) return;
    const at = this.now();
    const next: IdentityRecord = {
      ...current,
      connectionState: connected ? 'Connected' : 'Disconnected',
      connectionStateUpdatedTime: at,
      lastActivityTime: at,
    };
    this.store(next);
    // The event's sequence number is the one the commit gives it: strictly increasing.
    this.commit(
      [{ put: next }],
      [connectionStateChange(next, connected, this.transactions.sequence + 1, at)],
    );
  }

  /** Notes activity without a durable write per message. */
  touch(deviceId: string, moduleId: string | undefined): void {
    const current = this.find(deviceId, moduleId);
    if (current) current.lastActivityTime = this.now();
  }

  /** The length of a device's cloud-to-device queue, kept by the queue (not journaled). */
  setCloudToDeviceCount(deviceId: string, moduleId: string | undefined, count: number): void {
    const current = this.find(deviceId, moduleId);
    if (current) current.cloudToDeviceMessageCount = count;
  }

  /** A device-to-cloud message or module output event, kept in the change log. */
  recordMessage(
    deviceId: string,
    moduleId: string | undefined,
    payload: Buffer,
    properties: Record<string, string>,
  ): void {
    // Numbered like every change, but not journaled: messages live in the built-in endpoint.
    this.transactions.publishUnjournaled(
      telemetryChange(deviceId, moduleId, this.now(), payload, properties),
    );
  }

  // ---- seeding ----------------------------------------------------------------------

  /** Replaces the whole state with freshly built records (fast seeding of large fleets). */
  loadFleet(records: IdentityRecord[]): void {
    this.add(records);
    this.transactions.rewrite(this.allRecords());
  }

  /** Builds a device or module record with generated keys, without storing it (for `loadFleet`). */
  buildRecord(deviceId: string, moduleId?: string): IdentityRecord {
    const authentication = parseAuthentication(undefined);
    return this.newRecord(
      deviceId,
      moduleId,
      moduleId === undefined
        ? {
            status: 'enabled',
            statusReason: null,
            authentication,
            iotEdge: false,
            parentScopes: [],
          }
        : { managedBy: null, authentication },
    );
  }

  compact(): void {
    this.transactions.rewrite(this.allRecords());
  }

  close(): void {
    this.persistence.close();
  }
}
