import {
  applyObjectPatch,
  emptySection,
  IDENTITY_ID_PATTERN,
  minimalPatch,
  patchSection,
  replaceSection,
  validateSection,
  validateSectionPatch,
  type JsonObject,
  type TwinSectionName,
  type TwinViolation,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { ChangeLog } from './change-log.ts';
import {
  connectionStateChange,
  lifecycleChange,
  telemetryChange,
  twinChange,
  type RecordedChange,
} from './change-recorder.ts';
import {
  parseAuthentication,
  type DeviceInput,
  type ModuleInput,
  type TwinWrite,
} from './identity-input.ts';
import { NEVER_TIME, type Authentication, type IdentityRecord } from './model.ts';
import type { Counters, Operation, Persistence } from './persistence.ts';
import { renderTwin } from './twin-render.ts';

/** The modules IoT Hub creates with every IoT Edge device. */
export const EDGE_SYSTEM_MODULES = ['$edgeAgent', '$edgeHub'] as const;

/** What IoT Hub gives them: no keys of their own (the Edge device's own identity serves). */
const NO_KEYS: Authentication = {
  type: 'none',
  symmetricKey: { primaryKey: null, secondaryKey: null },
  x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
};

interface DeviceEntry {
  device: IdentityRecord;
  modules: Map<string, IdentityRecord>;
}

/** A precondition from If-Match: undefined (none), '*' (any), or an etag. */
export type Precondition = string | undefined;

export interface RegistryStatistics {
  totalDeviceCount: number;
  enabledDeviceCount: number;
  disabledDeviceCount: number;
}

export function violationError(violations: TwinViolation[]): HubError {
  const detail = violations
    .slice(0, 5)
    .map((v) => `${v.path}: ${v.message}`)
    .join(' ');
  return new HubError('ArgumentInvalid', `The twin breaks IoT Hub's rules. ${detail}`);
}

function checkSection(section: TwinSectionName, patch: JsonObject, result: JsonObject): void {
  const violations = validateSectionPatch(section, patch, result);
  if (violations.length > 0) throw violationError(violations);
}

function matches(etag: string, precondition: Precondition): boolean {
  return precondition === undefined || precondition === '*' || precondition === etag;
}

/**
 * The identity registry and twins: state and IoT Hub's rules, transport free. Requests are
 * parsed before they get here (`identity-input.ts`), and the changes it records are shaped
 * by `change-recorder.ts`. Each successful write is committed to persistence, with its
 * change events, before it returns.
 */
export class Registry {
  private readonly entries = new Map<string, DeviceEntry>();
  private counters: Counters = { etag: 0, sequence: 0 };
  private moduleCount = 0;
  private pending: { operations: Operation[]; events: RecordedChange[] } | undefined;

  constructor(
    private readonly persistence: Persistence,
    readonly changes: ChangeLog = new ChangeLog(),
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.reload();
  }

  private reload(): void {
    const loaded = this.persistence.load();
    this.entries.clear();
    this.moduleCount = 0;
    this.counters = loaded.counters;
    for (const record of loaded.records) {
      // Nothing is connected to a hub that just started.
      record.connectionState = 'Disconnected';
    }
    for (const record of loaded.records.filter((r) => r.moduleId === undefined)) {
      this.entries.set(record.deviceId, { device: record, modules: new Map() });
    }
    for (const record of loaded.records) {
      if (record.moduleId === undefined) continue;
      this.entries.get(record.deviceId)?.modules.set(record.moduleId, record);
      this.moduleCount++;
    }
  }

  // ---- bookkeeping -------------------------------------------------------------------

  private nextCounter(): number {
    this.counters = { ...this.counters, etag: this.counters.etag + 1 };
    return this.counters.etag;
  }

  private identityEtag(): string {
    return Buffer.from(String(this.nextCounter())).toString('base64');
  }

  private twinEtag(): string {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(BigInt(this.nextCounter()));
    return bytes.toString('base64');
  }

  private generationId(): string {
    const ticks = BigInt(this.clock().getTime()) * 10_000n + 621_355_968_000_000_000n;
    return `${ticks + BigInt(this.nextCounter() % 10_000)}`;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private commit(operations: Operation[], events: RecordedChange[] = []): void {
    if (this.pending) {
      this.pending.operations.push(...operations);
      this.pending.events.push(...events);
      return;
    }
    const published = events.map((event) => {
      this.counters = { ...this.counters, sequence: this.counters.sequence + 1 };
      return { ...event, sequenceNumber: this.counters.sequence };
    });
    try {
      this.persistence.commit({ counters: this.counters, operations });
    } catch (error) {
      // Memory already holds the change; go back to what is durable so nothing is half-applied.
      console.error('could not persist a change:', error instanceof Error ? error.message : error);
      this.reload();
      throw new HubError(
        'ServiceUnavailable',
        'The emulator could not store the change; nothing was applied.',
      );
    }
    for (const event of published) this.changes.publish(event);
  }

  // ---- reads -------------------------------------------------------------------------

  private entry(deviceId: string): DeviceEntry {
    const entry = this.entries.get(deviceId);
    if (!entry) throw new HubError('DeviceNotFound', `Device ${deviceId} not found.`);
    return entry;
  }

  /** A device, or one of its modules (with its twin); IoT Hub's not-found error otherwise. */
  get(deviceId: string, moduleId?: string): IdentityRecord {
    const entry = this.entry(deviceId);
    if (moduleId === undefined) return entry.device;
    const module = entry.modules.get(moduleId);
    if (!module) {
      throw new HubError('ModuleNotFound', `Module ${moduleId} not found on device ${deviceId}.`);
    }
    return module;
  }

  /** The same, or undefined. */
  find(deviceId: string, moduleId?: string): IdentityRecord | undefined {
    const entry = this.entries.get(deviceId);
    return moduleId === undefined ? entry?.device : entry?.modules.get(moduleId);
  }

  /** Device records in creation order, the first `top` of them when given. */
  devices(top = Infinity): IdentityRecord[] {
    const out: IdentityRecord[] = [];
    for (const entry of this.entries.values()) {
      if (out.length >= top) break;
      out.push(entry.device);
    }
    return out;
  }

  /** One device's modules; IoT Hub's not-found error for an unknown device. */
  modulesOf(deviceId: string): IdentityRecord[] {
    return [...this.entry(deviceId).modules.values()];
  }

  /** Every module record, grouped by device in creation order. */
  modules(): IdentityRecord[] {
    const out: IdentityRecord[] = [];
    for (const entry of this.entries.values()) for (const m of entry.modules.values()) out.push(m);
    return out;
  }

  get deviceCount(): number {
    return this.entries.size;
  }

  get totalModules(): number {
    return this.moduleCount;
  }

  statistics(): RegistryStatistics {
    let enabled = 0;
    for (const entry of this.entries.values()) if (entry.device.status === 'enabled') enabled++;
    return {
      totalDeviceCount: this.entries.size,
      enabledDeviceCount: enabled,
      disabledDeviceCount: this.entries.size - enabled,
    };
  }

  get sequenceNumber(): number {
    return this.counters.sequence;
  }

  // ---- identities --------------------------------------------------------------------

  private newRecord(
    deviceId: string,
    moduleId: string | undefined,
    input: DeviceInput | ModuleInput,
  ): IdentityRecord {
    const record: IdentityRecord = {
      deviceId,
      ...(moduleId !== undefined ? { moduleId } : {}),
      generationId: this.generationId(),
      etag: this.identityEtag(),
      status: 'enabled',
      statusReason: null,
      statusUpdatedTime: NEVER_TIME,
      connectionState: 'Disconnected',
      connectionStateUpdatedTime: NEVER_TIME,
      lastActivityTime: NEVER_TIME,
      cloudToDeviceMessageCount: 0,
      authentication: input.authentication,
      twin: {
        version: 1,
        etag: this.twinEtag(),
        tags: {},
        desired: emptySection(),
        reported: emptySection(),
        modelId: '',
      },
    };
    if ('managedBy' in input) record.managedBy = input.managedBy;
    else this.applyDevice(record, input);
    return record;
  }

  /** The IoT Edge device a scope names, while it still has that scope. */
  private edgeOfScope(scope: string): IdentityRecord | undefined {
    const id = /^ms-azure-iot-edge:\/\/(.+)-\d+$/.exec(scope)?.[1];
    const device = id === undefined ? undefined : this.entries.get(id)?.device;
    return device?.capabilities?.iotEdge && device.deviceScope === scope ? device : undefined;
  }

  /**
   * A device's settable fields, with scopes as the hub keeps them: an IoT Edge device has a
   * scope of its own, which cannot change; another device's scope, and every parent scope,
   * must be an existing IoT Edge device's scope; a device given only a scope gets it as its
   * parent too.
   */
  private applyDevice(record: IdentityRecord, input: DeviceInput): void {
    const refuse = (message: string): never => {
      throw new HubError('ArgumentInvalid', message);
    };
    let scope = record.deviceScope;
    if (input.iotEdge) {
      const own = `ms-azure-iot-edge://${record.deviceId}-${record.generationId}`;
      if (input.deviceScope && input.deviceScope !== own)
        refuse(
          `Device ${record.deviceId} is an IoT Edge device: its scope is its own (${own}) and cannot change. Name a parent in parentScopes.`,
        );
      scope = own;
    } else if (input.deviceScope) {
      if (!this.edgeOfScope(input.deviceScope))
        refuse(
          `deviceScope "${input.deviceScope.slice(0, 200)}" is not the scope of an IoT Edge device in this hub.`,
        );
      scope = input.deviceScope;
    }
    const parents =
      input.parentScopes.length === 0 && !input.iotEdge && input.deviceScope
        ? [input.deviceScope]
        : input.parentScopes;
    for (const parent of parents) {
      if (parent === scope && input.iotEdge)
        refuse(`An IoT Edge device cannot be its own parent (${parent}).`);
      if (!this.edgeOfScope(parent))
        refuse(
          `parentScopes: "${parent.slice(0, 200)}" is not the scope of an IoT Edge device in this hub.`,
        );
    }
    record.status = input.status;
    record.statusReason = input.statusReason;
    record.authentication = input.authentication;
    record.capabilities = { iotEdge: input.iotEdge };
    if (scope) record.deviceScope = scope;
    record.parentScopes = parents;
  }

  /**
   * `PUT /devices/{id}` without If-Match: create. An IoT Edge device comes with its
   * `$edgeAgent` and `$edgeHub` module identities, without keys of their own, as the hub
   * creates them.
   */
  createDevice(deviceId: string, input: DeviceInput): IdentityRecord {
    if (this.entries.has(deviceId)) {
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
    this.entries.set(deviceId, { device: record, modules });
    this.moduleCount += modules.size;
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
      entry.device = device;
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
    this.entry(deviceId).device = next;
    this.commit([{ put: next }]);
    return next;
  }

  deleteDevice(deviceId: string, precondition: Precondition): void {
    const entry = this.entry(deviceId);
    if (!matches(entry.device.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of device ${deviceId} does not match.`);
    }
    this.entries.delete(deviceId);
    this.moduleCount -= entry.modules.size;
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
    entry.modules.set(moduleId, record);
    this.moduleCount++;
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
    this.entry(deviceId).modules.set(moduleId, next);
    this.commit([{ put: next }]);
    return next;
  }

  deleteModule(deviceId: string, moduleId: string, precondition: Precondition): void {
    const current = this.get(deviceId, moduleId);
    if (!matches(current.etag, precondition)) {
      throw new HubError('PreconditionFailed', `The etag of module ${moduleId} does not match.`);
    }
    this.entry(deviceId).modules.delete(moduleId);
    this.moduleCount--;
    this.commit(
      [{ delete: { deviceId, moduleId } }],
      [lifecycleChange(current, 'deleteDeviceIdentity', this.now())],
    );
  }

  // ---- twins -------------------------------------------------------------------------

  private store(record: IdentityRecord): void {
    const entry = this.entry(record.deviceId);
    if (record.moduleId === undefined) entry.device = record;
    else entry.modules.set(record.moduleId, record);
  }

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
    const twin = { ...current.twin };
    const body: JsonObject = {};
    let desiredPatch: JsonObject | undefined;
    if (patch.tags !== undefined) {
      const tagPatch =
        patch.tags ?? Object.fromEntries(Object.keys(twin.tags).map((k) => [k, null]));
      const tags = applyObjectPatch(twin.tags, tagPatch);
      checkSection('tags', tagPatch, tags);
      twin.tags = tags;
      body['tags'] = tagPatch;
    }
    if (patch.desired !== undefined) {
      // Clearing desired tells devices which keys went away: an explicit null for each.
      desiredPatch =
        patch.desired ?? Object.fromEntries(Object.keys(twin.desired.values).map((k) => [k, null]));
      const values = applyObjectPatch(twin.desired.values, desiredPatch);
      checkSection('desired', desiredPatch, values);
      twin.desired = patchSection(twin.desired, desiredPatch, { at, trackVersion: true });
      body['properties'] = {
        desired: {
          ...desiredPatch,
          $metadata: twin.desired.metadata,
          $version: twin.desired.version,
        },
      };
    }
    twin.version += 1;
    twin.etag = this.twinEtag();
    const next = { ...current, twin };
    return this.twinChanged(
      next,
      at,
      'updateTwin',
      { version: twin.version, ...body },
      desiredPatch && { ...desiredPatch, $version: twin.desired.version },
    );
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
    const tags = replacement.tags ?? {};
    const desired = replacement.desired ?? {};
    const violations = [...validateSection('tags', tags), ...validateSection('desired', desired)];
    if (violations.length > 0) throw violationError(violations);

    const at = this.now();
    const removed = Object.fromEntries(
      Object.keys(current.twin.desired.values)
        .filter((key) => !Object.hasOwn(desired, key))
        .map((key) => [key, null]),
    );
    const twin = {
      ...current.twin,
      tags,
      desired: replaceSection(current.twin.desired, desired, { at, trackVersion: true }),
      version: current.twin.version + 1,
      etag: this.twinEtag(),
    };
    const next = { ...current, twin };
    return this.twinChanged(next, at, 'replaceTwin', renderTwin(next), {
      ...removed,
      ...twin.desired.values,
      $version: twin.desired.version,
    });
  }

  /** A reported-properties patch from the device or module itself (parsed by the transport). */
  patchReported(deviceId: string, moduleId: string | undefined, patch: JsonObject): IdentityRecord {
    const current = this.get(deviceId, moduleId);
    const values = applyObjectPatch(current.twin.reported.values, patch);
    checkSection('reported', patch, values);
    const at = this.now();
    const reported = patchSection(current.twin.reported, patch, { at, trackVersion: false });
    const twin = {
      ...current.twin,
      reported,
      version: current.twin.version + 1,
      etag: this.twinEtag(),
    };
    const next = { ...current, twin };
    return this.twinChanged(next, at, 'updateTwin', {
      version: twin.version,
      properties: {
        reported: { ...patch, $metadata: reported.metadata, $version: reported.version },
      },
    });
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
      [connectionStateChange(next, connected, this.counters.sequence + 1, at)],
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
    this.counters = { ...this.counters, sequence: this.counters.sequence + 1 };
    this.changes.publish({
      ...telemetryChange(deviceId, moduleId, this.now(), payload, properties),
      sequenceNumber: this.counters.sequence,
    });
  }

  // ---- bulk and seeding --------------------------------------------------------------

  /**
   * Runs several writes as one durable transaction: the callback's commits are gathered
   * and written together, so a crash keeps all of them or none.
   */
  batch<T>(work: () => T): T {
    if (this.pending) return work();
    this.pending = { operations: [], events: [] };
    let result: T;
    try {
      result = work();
    } finally {
      const { operations, events } = this.pending;
      this.pending = undefined;
      if (operations.length > 0) this.commit(operations, events);
    }
    return result;
  }

  /** Replaces the whole state with freshly built records (fast seeding of large fleets). */
  loadFleet(records: IdentityRecord[]): void {
    for (const record of records) {
      const entry = this.entries.get(record.deviceId);
      if (record.moduleId === undefined) {
        this.entries.set(record.deviceId, { device: record, modules: entry?.modules ?? new Map() });
      } else {
        entry?.modules.set(record.moduleId, record);
        this.moduleCount++;
      }
    }
    this.persistence.rewrite(this.allRecords(), this.counters);
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

  *allRecords(): Iterable<IdentityRecord> {
    for (const entry of this.entries.values()) {
      yield entry.device;
      yield* entry.modules.values();
    }
  }

  compact(): void {
    this.persistence.rewrite(this.allRecords(), this.counters);
  }

  close(): void {
    this.persistence.close();
  }
}
