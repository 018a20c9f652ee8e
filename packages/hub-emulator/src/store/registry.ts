// The registry every layer holds. Its writes are split by what they change, each class
// adding to the one before: registry-base.ts (the index, transactions, clock and counters
// they share), identity-registry.ts (devices and modules), twin-registry.ts (twins), and
// here what a connected device changes and the fleet loaded at once. Reads are in
// identity-index.ts, durability in transactions.ts, and the pure rules in twin-writes.ts,
// device-scopes.ts and identity-records.ts.
import { connectionStateChange, telemetryChange } from './change-recorder.ts';
import { parseAuthentication } from './identity-input.ts';
import type { IdentityRecord } from './model.ts';
import { TwinRegistry } from './twin-registry.ts';

export type { Precondition } from './registry-base.ts';
export type { RegistryStatistics } from './identity-index.ts';

/**
 * The identity registry and twins: state and IoT Hub's rules, transport free. Requests are
 * parsed before they get here (`identity-input.ts`), and the changes it records are shaped
 * by `change-recorder.ts`. Each successful write is committed to persistence, with its
 * change events, before it returns.
 */
export class Registry extends TwinRegistry {
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

  /**
   * The Plug and Play model a device or module announced as it connected, kept in its
   * twin's `modelId` (durably, as IoT Hub keeps it; announcing none leaves it as it was).
   */
  announceModel(deviceId: string, moduleId: string | undefined, modelId: string): void {
    const current = this.find(deviceId, moduleId);
    if (!current || current.twin.modelId === modelId) return;
    const next: IdentityRecord = { ...current, twin: { ...current.twin, modelId } };
    this.store(next);
    this.commit([{ put: next }], []);
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
}
