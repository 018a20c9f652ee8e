import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { Database } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';

/** What catching up needs of the endpoint: a partition's bounds, and a read of a range. */
export type HistorySource = Pick<EventSource, 'partition' | 'read'>;

export interface CatchUpOptions {
  /** Events read back at a time. */
  chunk?: number;
  /** After a failure (the database or the endpoint down), try again this much later. */
  retryMs?: number;
}

/** A range of a partition not yet stored: the sequence numbers after `after`, up to `upTo`. */
interface Range {
  after: number;
  upTo: number;
}

/**
 * Reads back from the endpoint what the history did not store: what came while no replica was
 * reading (from the position stored last, up to where this consumer started), and batches
 * that could not be stored (the database was down or slow). It retries until the range is
 * stored or has left the endpoint's retention; what left it stays a gap. `store` dedupes
 * (partition and sequence number are the key), so reading something twice costs nothing.
 */
export class HistoryCatchUp {
  private readonly ranges = new Map<number, Range>();
  /** Partitions whose live consumer has started, with its first sequence number if known. */
  private readonly starting = new Map<number, number | undefined>();
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly source: HistorySource,
    private readonly store: (changes: RoutedChange[]) => Promise<void>,
    private readonly logger: Logger,
    private readonly options: CatchUpOptions = {},
  ) {}

  /** The live consumer's first batch on a partition; what came before it is read back. */
  started(partition: number, firstSequence: number | undefined): void {
    this.starting.set(partition, firstSequence);
    this.kick();
  }

  /** Events of a partition that were not stored; they are read back. */
  missed(partition: number, after: number, upTo: number): void {
    if (upTo <= after) return;
    const range = this.ranges.get(partition);
    this.ranges.set(
      partition,
      range
        ? { after: Math.min(range.after, after), upTo: Math.max(range.upTo, upTo) }
        : { after, upTo },
    );
    this.kick();
  }

  /** How far a partition may be marked stored: never past a range still to read back. */
  storedUpTo(partition: number, sequence: number): number {
    const range = this.ranges.get(partition);
    return range ? Math.min(range.after, sequence) : sequence;
  }

  /** Events (of any kind) still to read back; 0 when the history is up to date. */
  get behind(): number {
    let events = 0;
    for (const range of this.ranges.values()) events += range.upTo - range.after;
    return events;
  }

  /** Resolves when nothing is left to read back (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.running || this.starting.size > 0 || this.ranges.size > 0)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    clearTimeout(this.timer);
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
      if (!this.stopped && (this.starting.size > 0 || this.ranges.size > 0)) {
        this.timer = setTimeout(() => this.kick(), this.options.retryMs ?? 5_000);
        this.timer.unref();
      }
    });
  }

  private async run(): Promise<void> {
    try {
      for (const [partition, first] of [...this.starting]) {
        if (this.stopped) return;
        await this.checkStart(partition, first);
        this.starting.delete(partition);
      }
      for (const partition of [...this.ranges.keys()]) {
        while (!this.stopped && this.ranges.has(partition)) {
          if (!(await this.readBack(partition))) break;
        }
      }
    } catch (error) {
      this.logger.warn('twin history is behind and will try again', {
        behind: this.behind,
        message: (error as Error).message,
      });
    }
  }

  /** From the position stored last up to where the live consumer started. */
  private async checkStart(partition: number, first: number | undefined): Promise<void> {
    const { rows } = await this.db.query<{ source_sequence: number }>(
      'SELECT source_sequence FROM history_positions WHERE source_partition = $1',
      [partition],
    );
    const stored = rows[0]?.source_sequence;
    // Nothing stored yet: the history starts now.
    if (stored === undefined) return;
    const upTo = first !== undefined ? first - 1 : (await this.source.partition(partition)).last;
    if (upTo > stored) {
      this.logger.info('twin history: reading back what came while no replica was reading', {
        partition,
        events: upTo - stored,
      });
      this.missed(partition, stored, upTo);
    } else if (upTo < stored) {
      // The endpoint starts again from lower numbers (a new hub, an emulator reset).
      await this.db.query(
        'UPDATE history_positions SET source_sequence = $2, updated_at = now() WHERE source_partition = $1',
        [partition, upTo],
      );
    }
  }

  /** Reads one chunk of a partition's range back and stores it; false when it must wait. */
  private async readBack(partition: number): Promise<boolean> {
    const range = this.ranges.get(partition)!;
    const bounds = await this.source.partition(partition);
    let after = range.after;
    if (bounds.isEmpty || after < bounds.begin - 1) {
      // Past the endpoint's retention: those changes are gone, and show as gaps.
      this.logger.warn('twin history: changes left the endpoint before they were stored', {
        partition,
        events: Math.max(0, Math.min(range.upTo, bounds.begin - 1) - after),
      });
      after = bounds.begin - 1;
    }
    const upTo = Math.min(range.upTo, bounds.last);
    if (bounds.isEmpty || after >= upTo) {
      this.ranges.delete(partition);
      return true;
    }
    const read = await this.source.read(partition, { after }, upTo, this.options.chunk ?? 2_000);
    await this.store(read.changes);
    const reached = read.complete ? upTo : (read.changes.at(-1)?.position.sequenceNumber ?? after);
    if (reached <= after) return false;
    const now = this.ranges.get(partition)!;
    if (reached >= now.upTo) this.ranges.delete(partition);
    // A failure heard meanwhile may have widened the range back: then it is read from there.
    else if (now.after === range.after)
      this.ranges.set(partition, { after: reached, upTo: now.upTo });
    return true;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
