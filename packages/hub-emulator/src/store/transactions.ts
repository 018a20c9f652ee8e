// The registry's durable transactions: one counter for etags and generation ids, one for
// change sequence numbers, writes gathered into one journal entry per transaction, each
// committed before the caller answers, and change events published only once durable.
import { HubError } from '../errors.ts';
import type { ChangeLog } from './change-log.ts';
import type { RecordedChange } from './change-recorder.ts';
import type { IdentityRecord } from './model.ts';
import type { Counters, Operation, Persistence } from './persistence.ts';

export class Transactions {
  private counters: Counters = { etag: 0, sequence: 0 };
  private pending: { operations: Operation[]; events: RecordedChange[] } | undefined;

  constructor(
    private readonly persistence: Persistence,
    private readonly changes: ChangeLog,
    /** Called when a commit fails: memory goes back to what is durable (it calls `restart`). */
    private readonly reload: () => void,
  ) {}

  /** Counting goes on from what was loaded. */
  restart(counters: Counters): void {
    this.counters = counters;
  }

  /** The next value of the etag counter. */
  next(): number {
    this.counters = { ...this.counters, etag: this.counters.etag + 1 };
    return this.counters.etag;
  }

  /** The last change's sequence number. */
  get sequence(): number {
    return this.counters.sequence;
  }

  /**
   * Writes operations and their change events durably, then publishes the events, numbered;
   * inside `batch`, gathers them for the batch's one write. A failed write reloads what is
   * durable and answers 503, so memory never holds what the disk does not.
   */
  commit(operations: Operation[], events: RecordedChange[] = []): void {
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

  /** A change numbered like every other but not journaled (device messages). */
  publishUnjournaled(event: RecordedChange): void {
    this.counters = { ...this.counters, sequence: this.counters.sequence + 1 };
    this.changes.publish({ ...event, sequenceNumber: this.counters.sequence });
  }

  /** Everything written again as one snapshot (seeding, compaction). */
  rewrite(records: Iterable<IdentityRecord>): void {
    this.persistence.rewrite(records, this.counters);
  }
}
