// What every registry write shares, so the writes themselves (identity-registry.ts,
// twin-registry.ts, registry.ts) are each a few lines of IoT Hub's rules around one commit:
// the index they write, the transactions they commit through, and the clock and counters
// behind new records, etags and generation ids.
import { ChangeLog } from './change-log.ts';
import type { DeviceInput, ModuleInput } from './identity-input.ts';
import type { IdentityRecord } from './model.ts';
import { IdentityIndex } from './identity-index.ts';
import { generationId, identityEtag, newIdentityRecord, twinEtag } from './identity-records.ts';
import type { Persistence } from './persistence.ts';
import { Transactions } from './transactions.ts';
import { applyDeviceInput, deviceIdOfEdgeScope } from './device-scopes.ts';

/** A precondition from If-Match: undefined (none), '*' (any), or an etag. */
export type Precondition = string | undefined;

export function matches(etag: string, precondition: Precondition): boolean {
  return precondition === undefined || precondition === '*' || precondition === etag;
}

export class RegistryBase extends IdentityIndex {
  protected readonly transactions: Transactions;

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

  protected commit(...change: Parameters<Transactions['commit']>): void {
    this.transactions.commit(...change);
  }

  /**
   * Runs several writes as one durable transaction: the callback's commits are gathered
   * and written together, so a crash keeps all of them or none.
   */
  batch<T>(work: () => T): T {
    return this.transactions.batch(work);
  }

  protected now(): string {
    return this.clock().toISOString();
  }

  protected identityEtag(): string {
    return identityEtag(this.transactions.next());
  }

  protected twinEtag(): string {
    return twinEtag(this.transactions.next());
  }

  get sequenceNumber(): number {
    return this.transactions.sequence;
  }

  protected newRecord(
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

  protected applyDevice(record: IdentityRecord, input: DeviceInput): void {
    applyDeviceInput(record, input, (scope) => this.isEdgeScope(scope));
  }

  compact(): void {
    this.transactions.rewrite(this.allRecords());
  }

  close(): void {
    this.persistence.close();
  }
}
