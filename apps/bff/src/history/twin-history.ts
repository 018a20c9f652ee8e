import {
  type FleetActivityQuery,
  type FleetActivityResponse,
  twinKey,
  type Twin,
  type TwinAtVersion,
  type TwinVersion,
  type TwinVersionsResponse,
} from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { rebuildFromStore, snapshotOf } from './rebuild.ts';
import { TokenBucket } from '@twinscope/hub-quotas';
import type { RoutedChange } from '../adapters/event-hubs.ts';
import type { Database } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';
import { HistoryCatchUp, type CatchUpOptions, type HistorySource } from './catch-up.ts';
import { versionOf, type StoredVersionRow } from './describe.ts';
import { fleetActivity } from './fleet-activity.ts';
import { pruneHistory } from './retention.ts';

type TwinRef = { deviceId: string; moduleId?: string };

/** What the history reads from the hub: a whole twin, for a snapshot. */
export interface TwinReader {
  getTwin(deviceId: string, moduleId?: string): Promise<Twin>;
}

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

const key = (ref: TwinRef) => twinKey(ref);

/**
 * A twin gets a checkpoint snapshot (rebuilt from what is stored) once this many versions
 * follow its newest snapshot: rebuilding any version then reads at most this many changes.
 */
const CHECKPOINT_EVERY = 200;

/** Batches (of up to 200 events) that may wait to be stored before more are skipped. */
const MAX_WAITING_BATCHES = 500;

/** A twin version the history now holds. */
export interface StoredVersion {
  deviceId: string;
  moduleId?: string;
  version: number;
}

/**
 * Every twin's history, from the twin change events this BFF's consumer reads, whoever made
 * the change. Each event is stored once, however many replicas read it: its place in the
 * endpoint (partition, sequence number) is the key, and only the replica whose insert won
 * looks further. A twin seen for the first time, or whose new version does not follow a
 * stored one (the BFF was down past the endpoint's retention, or changes merged), gets a
 * whole-twin read: a snapshot the versions after it are rebuilt from. Gaps stay gaps.
 */
export class TwinHistory {
  private readonly pending = new Map<string, { ref: TwinRef; reason: 'first-seen' | 'gap' }>();
  private readonly budget: TokenBucket;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
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
    const rate = options.snapshotReadsPerSecond ?? 5;
    this.budget = new TokenBucket(rate, rate);
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

  /** Resolves once every accepted batch is stored and nothing is left to read back. */
  async caughtUp(): Promise<void> {
    await this.settled();
    await this.catchUp?.idle();
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
    if (won.length > 0) await this.check(won);
  }

  /**
   * Whether the changes this replica stored follow what is stored: a twin without a snapshot,
   * or whose version jumps, wants one read from the hub; a long run of changes gets a
   * checkpoint.
   */
  private async check(
    won: { device_id: string; module_id: string; version: number | null; oversized: boolean }[],
  ): Promise<void> {
    const { rows } = await this.db.query<{
      d: string;
      m: string;
      v: number | null;
      oversized: boolean;
      snapshots: number;
      newest: number | null;
      previous: boolean;
    }>(
      `SELECT w.d, w.m, w.v, w.oversized,
         (SELECT count(*) FROM twin_snapshots s WHERE s.device_id = w.d AND s.module_id = w.m) AS snapshots,
         (SELECT max(version) FROM twin_snapshots s WHERE s.device_id = w.d AND s.module_id = w.m) AS newest,
         (EXISTS (SELECT 1 FROM twin_changes c
                  WHERE c.device_id = w.d AND c.module_id = w.m AND c.version = w.v - 1)
          OR EXISTS (SELECT 1 FROM twin_snapshots s
                  WHERE s.device_id = w.d AND s.module_id = w.m AND s.version = w.v - 1)) AS previous
       FROM jsonb_to_recordset($1::jsonb) AS w(d text, m text, v integer, oversized boolean)`,
      [
        JSON.stringify(
          won.map((c) => ({
            d: c.device_id,
            m: c.module_id,
            v: c.version,
            oversized: c.oversized,
          })),
        ),
      ],
    );
    const checkpoints = new Map<string, { ref: TwinRef; version: number }>();
    for (const found of rows) {
      const ref = { deviceId: found.d, ...(found.m ? { moduleId: found.m } : {}) };
      if (found.snapshots === 0) this.want(ref, 'first-seen');
      else if (found.v === null || !found.previous || found.oversized) this.want(ref, 'gap');
      else if (found.newest !== null && found.v - found.newest >= CHECKPOINT_EVERY) {
        const k = key(ref);
        if ((checkpoints.get(k)?.version ?? 0) < found.v)
          checkpoints.set(k, { ref, version: found.v });
      }
    }
    for (const { ref, version } of checkpoints.values()) await this.checkpoint(ref, version);
  }

  /** A snapshot rebuilt from the history itself (no hub read); none across a gap. */
  private async checkpoint(ref: TwinRef, version: number): Promise<void> {
    const rebuilt = await rebuildFromStore(this.db, ref, version);
    if (!rebuilt.ok) return;
    await this.db.query(
      `INSERT INTO twin_snapshots (device_id, module_id, version, twin, reason)
       VALUES ($1, $2, $3, $4, 'checkpoint') ON CONFLICT DO NOTHING`,
      [ref.deviceId, ref.moduleId ?? '', version, snapshotOf(rebuilt.doc)],
    );
  }

  private want(ref: TwinRef, reason: 'first-seen' | 'gap'): void {
    if (this.stopped) return;
    const k = key(ref);
    if (this.pending.has(k)) return;
    if (this.pending.size >= (this.options.maxPendingSnapshots ?? 10_000)) return;
    this.pending.set(k, { ref, reason });
    void this.drain();
  }

  /** Reads wanted snapshots within the budget, one at a time. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.stopped && this.pending.size > 0) {
        const wait = this.budget.take();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            this.timer = setTimeout(resolve, wait * 1000);
          });
          continue;
        }
        const [k, { ref, reason }] = this.pending.entries().next().value!;
        // Still wanted while it is read and stored: a change arriving meanwhile (its batch
        // sees no snapshot yet) must not ask for a second one.
        try {
          const twin = await this.hub.getTwin(ref.deviceId, ref.moduleId);
          await this.db.query(
            `INSERT INTO twin_snapshots (device_id, module_id, version, twin, reason)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [ref.deviceId, ref.moduleId ?? '', twin.version, twin, reason],
          );
          this.announceStored([{ ...ref, version: twin.version }]);
        } catch (error) {
          // A twin deleted meanwhile, a hub that throttles: the next change asks again.
          this.logger.warn('twin history: snapshot not taken', {
            deviceId: ref.deviceId,
            ...(ref.moduleId ? { moduleId: ref.moduleId } : {}),
            message: (error as Error).message,
          });
        } finally {
          this.pending.delete(k);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * A twin's versions the history holds, newest first, a page at a time, each with who made
   * it (a person for Twinscope's own writes, from the audit trail), and the gaps between them.
   */
  async versions(
    ref: TwinRef,
    page: { limit: number; before?: number },
  ): Promise<TwinVersionsResponse> {
    const moduleId = ref.moduleId ?? '';
    const { rows } = await this.db.query<StoredVersionRow>(
      `SELECT version, enqueued_at, sections, op_type, patch,
         patch_digest IS NOT NULL AS oversized
       FROM twin_changes
       WHERE device_id = $1 AND module_id = $2 AND version IS NOT NULL
         AND ($3::integer IS NULL OR version < $3)
       ORDER BY version DESC LIMIT $4`,
      [ref.deviceId, moduleId, page.before ?? null, page.limit + 1],
    );
    const shown = rows.slice(0, page.limit);
    const authors = new Map<number, string>();
    if (shown.length > 0) {
      const audited = await this.db.query<{ version: number; actor_name: string }>(
        `SELECT (after->>'version')::integer AS version, actor_name FROM audit_entries
         WHERE device_id = $1 AND module_id = $2 AND action LIKE 'twin.%'
           AND result = 'succeeded' AND (after->>'version')::integer = ANY($3::integer[])`,
        [ref.deviceId, moduleId, shown.map((r) => r.version)],
      );
      for (const row of audited.rows) authors.set(row.version, row.actor_name);
    }
    const versions: TwinVersion[] = shown.map((row) =>
      versionOf(row, ref.moduleId, authors.get(row.version)),
    );
    const gaps: { from: number; to: number }[] = [];
    for (let i = 1; i < versions.length; i++) {
      const newer = versions[i - 1]!.version;
      const older = versions[i]!.version;
      if (newer - older > 1) gaps.push({ from: older + 1, to: newer - 1 });
    }
    return {
      versions,
      gaps,
      ...(rows.length > page.limit ? { next: String(shown.at(-1)!.version) } : {}),
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

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.flushTimer);
    clearInterval(this.retentionTimer);
    this.catchUp?.stop();
    this.pending.clear();
  }
}
