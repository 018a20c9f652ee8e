import type {
  FleetActivityQuery,
  FleetActivityResponse,
  TwinAtVersion,
  TwinVersionsResponse,
} from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { rebuildFromStore } from './rebuild.ts';
import type { RoutedChange } from '../adapters/event-hubs.ts';
import type { Database } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';
import { HistoryCatchUp, type CatchUpOptions, type HistorySource } from './catch-up.ts';
import { fleetActivity } from './fleet-activity.ts';
import { Snapshots, type StoredVersion, type TwinReader } from './snapshots.ts';
import { twinVersions } from './versions.ts';

export type { StoredVersion, TwinReader };
import { pruneHistory } from './retention.ts';

type TwinRef = { deviceId: string; moduleId?: string };

export interface TwinHistoryOptions {
  /** Whole-twin reads for snapshots, at most this many a second (they spend hub quota). */
  snapshotReadsPerSecond?: number;
  /** Snapshots waiting to be read; past this, the oldest wait for the next change. */
  maxPendingSnapshots?: number;
  /**
   * The endpoint, read back for what was not stored: what came while no replica was reading,
   * and batches the database refused. Without it, those versions stay gaps.
   */
  source?: HistorySource;
  catchUp?: CatchUpOptions;
  /** How often the position stored so far is written down (5 s unless told). */
  positionFlushMs?: number;
}

/** Batches (of up to 200 events) that may wait to be stored before more are skipped. */
const MAX_WAITING_BATCHES = 500;

/**
 * Every twin's history, from the twin change events this BFF's consumer reads, whoever made
 * the change. Each event is stored once, however many replicas read it: its place in the
 * endpoint (partition, sequence number) is the key, and only the replica whose insert won
 * looks further. A twin seen for the first time, or whose new version does not follow a
 * stored one (the BFF was down past the endpoint's retention, or changes merged), gets a
 * whole-twin read: a snapshot the versions after it are rebuilt from. Gaps stay gaps.
 */
export class TwinHistory {
  private readonly snapshots: Snapshots;
  private stopped = false;
  private readonly catchUp: HistoryCatchUp | undefined;
  /** Partitions whose first batch was seen. */
  private readonly seen = new Set<number>();
  /** Per partition, the newest sequence number stored (or of a batch with nothing to store). */
  private readonly positions = new Map<number, number>();
  private readonly flushed = new Map<number, number>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly storedListeners = new Set<(stored: StoredVersion[]) => void>();
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly hub: TwinReader,
    private readonly logger: Logger,
    private readonly options: TwinHistoryOptions = {},
  ) {
    this.snapshots = new Snapshots(db, hub, logger, {
      readsPerSecond: options.snapshotReadsPerSecond ?? 5,
      maxPending: options.maxPendingSnapshots ?? 10_000,
      taken: (stored) => this.announceStored([stored]),
    });
    this.catchUp = options.source
      ? new HistoryCatchUp(db, options.source, (changes) => this.record(changes), logger, {
          ...options.catchUp,
        })
      : undefined;
    this.flushTimer = setInterval(
      () => void this.flushPositions(),
      options.positionFlushMs ?? 5_000,
    );
    this.flushTimer.unref();
  }

  /** Per partition, the batch being stored: batches are stored in the order they were read. */
  private readonly chains = new Map<number, Promise<void>>();

  /**
   * Takes a partition's batch from the consumer without holding it up. A batch that cannot be
   * stored (the database is down, or too many wait) is read back from the endpoint later.
   * The first batch of a partition also reads back what came since the position stored last.
   */
  accept(
    partition: number,
    changes: RoutedChange[],
    firstSequence?: number,
    lastSequence?: number,
  ): void {
    if (this.stopped) return;
    if (!this.seen.has(partition)) {
      this.seen.add(partition);
      this.catchUp?.started(partition, firstSequence);
    }
    const twinChanges = changes.filter((c) => c.source === 'twinChangeEvents');
    const first = firstSequence ?? twinChanges[0]?.position.sequenceNumber;
    const last = lastSequence ?? twinChanges.at(-1)?.position.sequenceNumber;
    // A database slower than the hub must not make the BFF hold batches without bound: past
    // this, batches are skipped, to be read back from the endpoint once it keeps up.
    if (this.waiting >= MAX_WAITING_BATCHES) {
      this.skipped++;
      if (this.skipped === 1 || this.skipped % 1000 === 0)
        this.logger.warn('twin history is behind: batches left to read back', {
          skipped: this.skipped,
        });
      if (first !== undefined && last !== undefined && twinChanges.length > 0)
        this.catchUp?.missed(partition, first - 1, last);
      return;
    }
    this.waiting++;
    const previous = this.chains.get(partition) ?? Promise.resolve();
    const next = previous
      .then(() => this.record(twinChanges))
      .then(() => {
        if (last !== undefined) this.positions.set(partition, last);
      })
      .catch((error: unknown) => {
        this.logger.warn('twin history: a batch was not stored; it will be read back', {
          partition,
          message: (error as Error).message,
        });
        if (first !== undefined && last !== undefined)
          this.catchUp?.missed(partition, first - 1, last);
      })
      .finally(() => this.waiting--);
    this.chains.set(partition, next);
  }

  /** Writes down how far each partition is stored (never past what must be read back). */
  private async flushPositions(): Promise<void> {
    for (const [partition, sequence] of this.positions) {
      const upTo = this.catchUp ? this.catchUp.storedUpTo(partition, sequence) : sequence;
      if (this.flushed.get(partition) === upTo) continue;
      try {
        await this.db.query(
          `INSERT INTO history_positions (source_partition, source_sequence) VALUES ($1, $2)
           ON CONFLICT (source_partition) DO UPDATE
             SET source_sequence = GREATEST(history_positions.source_sequence, EXCLUDED.source_sequence),
                 updated_at = now()`,
          [partition, upTo],
        );
        this.flushed.set(partition, upTo);
      } catch {
        // The database is down: written at a later tick.
        return;
      }
    }
  }

  /** Events the history has still to read back and store (0 when up to date). */
  get behind(): number {
    return this.catchUp?.behind ?? 0;
  }

  /**
   * Resolves once every accepted batch is stored, nothing is left to read back, and the
   * snapshots those asked for are taken (a replica stopped before its first snapshot of a
   * twin could not rebuild the versions it stored).
   */
  async caughtUp(): Promise<void> {
    await this.settled();
    await this.catchUp?.idle();
    await this.snapshots.idle();
    await this.flushPositions();
  }

  /**
   * Hears which twins' versions were stored, as each batch is (on every replica whose
   * consumer read it, whichever stored it first), and when a snapshot was taken: the live
   * hub tells the tabs showing those versions, and the fleet's activity page.
   */
  onStored(listener: (stored: StoredVersion[]) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  private announceStored(stored: StoredVersion[]): void {
    if (stored.length === 0) return;
    for (const listener of this.storedListeners) listener(stored);
  }

  /** Batches accepted and not yet stored; batches skipped because too many were waiting. */
  private waiting = 0;
  private skipped = 0;

  /** Resolves when every accepted batch has been stored (or given up). */
  async settled(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  /** Stores a batch's twin change events (others are ignored); resolves once stored. */
  async record(changes: RoutedChange[]): Promise<void> {
    const twinChanges = changes.filter((c) => c.source === 'twinChangeEvents');
    if (twinChanges.length === 0) return;
    // One statement for the batch: the rows travel as one JSON parameter.
    const { rows: won } = await this.db.query<{
      device_id: string;
      module_id: string;
      version: number | null;
      oversized: boolean;
    }>(
      `INSERT INTO twin_changes (source_partition, source_sequence, device_id, module_id,
         version, enqueued_at, op_type, sections, patch, patch_digest)
       SELECT p, s, d, m, v, at, op, sections, patch, digest
       FROM jsonb_to_recordset($1::jsonb) AS r(p integer, s bigint, d text, m text, v integer,
         at timestamptz, op text, sections text[], patch jsonb, digest jsonb)
       ON CONFLICT (source_partition, source_sequence) DO NOTHING
       RETURNING device_id, module_id, version, patch_digest IS NOT NULL AS oversized`,
      [
        JSON.stringify(
          twinChanges.map((change) => ({
            p: change.position.partition,
            s: change.position.sequenceNumber,
            d: change.deviceId,
            m: change.moduleId ?? '',
            v: change.version ?? null,
            at: new Date(change.enqueuedTime ?? Date.now()).toISOString(),
            op: change.opType || 'updateTwin',
            sections: change.sections,
            patch: change.patch ?? null,
            digest: change.patchDigest ?? null,
          })),
        ),
      ],
    );
    this.announceStored(
      twinChanges.flatMap((change) =>
        change.version === undefined
          ? []
          : [
              {
                deviceId: change.deviceId,
                ...(change.moduleId !== undefined ? { moduleId: change.moduleId } : {}),
                version: change.version,
              },
            ],
      ),
    );
    if (won.length > 0) await this.snapshots.check(won);
  }

  /**
   * A twin's versions the history holds, newest first, a page at a time, each with who made
   * it, and the gaps between them (see \`twinVersions\`).
   */
  async versions(
    ref: TwinRef,
    page: { limit: number; before?: number },
  ): Promise<TwinVersionsResponse> {
    return {
      ...(await twinVersions(this.db, ref, page)),
      ...(this.behind > 0 ? { catchingUp: this.behind } : {}),
    };
  }

  /** The fleet's latest twin changes, newest first, filtered (see `fleetActivity`). */
  async activity(query: FleetActivityQuery): Promise<FleetActivityResponse> {
    return {
      ...(await fleetActivity(this.db, query)),
      ...(this.behind > 0 ? { catchingUp: this.behind } : {}),
    };
  }

  /**
   * Deletes stored changes older than the retention, keeping every version after it
   * rebuildable; returns how many changes went. One replica prunes at a time.
   */
  prune(retentionDays: number, now = Date.now()): Promise<number> {
    return pruneHistory(this.db, new Date(now - retentionDays * 24 * 60 * 60 * 1000));
  }

  /** Prunes now and every hour, when a retention is set. */
  keep(retentionDays: number | undefined): void {
    if (!retentionDays) return;
    const prune = () =>
      void this.prune(retentionDays).then(
        (deleted) => {
          if (deleted > 0) this.logger.info('twin history retention', { deleted });
        },
        (error: unknown) =>
          this.logger.warn('twin history retention failed', { message: (error as Error).message }),
      );
    prune();
    this.retentionTimer = setInterval(prune, 60 * 60 * 1000);
    this.retentionTimer.unref();
  }

  /** A twin as it was at a version: its snapshot and the changes after it (never across a gap). */
  async at(ref: TwinRef, version: number): Promise<TwinAtVersion> {
    const rebuilt = await rebuildFromStore(this.db, ref, version);
    if (!rebuilt.ok)
      throw new AppError(
        'not_found',
        rebuilt.noSnapshot
          ? `Version ${version} of this twin is not in the history: it is older than the first version Twinscope saw.`
          : `Version ${version} of this twin cannot be rebuilt: ${rebuilt.reason}. It falls in a gap of the history.`,
      );
    return { version, ...rebuilt.doc };
  }

  /** Stops, first writing how far the consumer has read, so the next start resumes there. */
  async close(): Promise<void> {
    await this.settled();
    await this.flushPositions();
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.snapshots.stop();
    clearInterval(this.flushTimer);
    clearInterval(this.retentionTimer);
    this.catchUp?.stop();
  }
}
