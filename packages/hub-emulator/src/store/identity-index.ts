// The identities in memory: each device with its modules, in creation order, and the reads
// every layer makes of them. No rules and no durability here: the registry (a subclass)
// writes through the protected methods after checking IoT Hub's rules, and commits.
import { HubError } from '../errors.ts';
import type { IdentityRecord } from './model.ts';

interface DeviceEntry {
  device: IdentityRecord;
  modules: Map<string, IdentityRecord>;
}

export interface RegistryStatistics {
  totalDeviceCount: number;
  enabledDeviceCount: number;
  disabledDeviceCount: number;
}

export class IdentityIndex {
  private readonly entries = new Map<string, DeviceEntry>();
  private moduleCount = 0;

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

  /** Every record, each device followed by its modules. */
  *allRecords(): Iterable<IdentityRecord> {
    for (const entry of this.entries.values()) {
      yield entry.device;
      yield* entry.modules.values();
    }
  }

  // ---- writes, for the registry ------------------------------------------------------

  protected entry(deviceId: string): DeviceEntry {
    const entry = this.entries.get(deviceId);
    if (!entry) throw new HubError('DeviceNotFound', `Device ${deviceId} not found.`);
    return entry;
  }

  protected hasDevice(deviceId: string): boolean {
    return this.entries.has(deviceId);
  }

  /** Everything replaced by these records, in any order. */
  protected reset(records: IdentityRecord[]): void {
    this.entries.clear();
    this.moduleCount = 0;
    this.add(records.filter((record) => record.moduleId === undefined));
    this.add(records.filter((record) => record.moduleId !== undefined));
  }

  /** Records added in order: a device keeps the modules it has; a module joins its device. */
  protected add(records: Iterable<IdentityRecord>): void {
    for (const record of records) {
      if (record.moduleId !== undefined) {
        this.addModule(record.moduleId, record);
        continue;
      }
      const entry = this.entries.get(record.deviceId);
      this.entries.set(record.deviceId, { device: record, modules: entry?.modules ?? new Map() });
    }
  }

  protected addDevice(device: IdentityRecord, modules: Map<string, IdentityRecord>): void {
    this.entries.set(device.deviceId, { device, modules });
    this.moduleCount += modules.size;
  }

  protected removeDevice(deviceId: string): void {
    const entry = this.entry(deviceId);
    this.entries.delete(deviceId);
    this.moduleCount -= entry.modules.size;
  }

  protected addModule(moduleId: string, module: IdentityRecord): void {
    this.entries.get(module.deviceId)?.modules.set(moduleId, module);
    this.moduleCount++;
  }

  protected removeModule(deviceId: string, moduleId: string): void {
    this.entry(deviceId).modules.delete(moduleId);
    this.moduleCount--;
  }

  /** A new version of a device or module that is there. */
  protected store(record: IdentityRecord): void {
    const entry = this.entry(record.deviceId);
    if (record.moduleId === undefined) entry.device = record;
    else entry.modules.set(record.moduleId, record);
  }
}
