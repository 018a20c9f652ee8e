import { twinKey, type TwinRef } from '@twinscope/contract';
import { TokenBucket } from '@twinscope/hub-quotas';
import type { Database } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';
import { rebuildFromStore, snapshotOf } from './rebuild.ts';
import type { Twin } from '@twinscope/contract';

/** What the history reads from the hub: a whole twin, for a snapshot. */
export interface TwinReader {
  getTwin(deviceId: string, moduleId?: string): Promise<Twin>;
}

/** A snapshot waiting to be read: why, and the newest version a change asked it to hold. */
interface Wanted {
  ref: TwinRef;
  reason: 'first-seen' | 'gap';
  atLeast: number;
}

/** A twin version the history now holds. */
export interface StoredVersion {
  deviceId: string;
  moduleId?: string;
  version: number;
}

/**
 * A twin gets a checkpoint snapshot (rebuilt from what is stored) once this many versions
 * follow its newest snapshot: rebuilding any version then reads at most this many changes.
 */
const CHECKPOINT_EVERY = 200;

/**
 * The snapshots the history rebuilds versions from: a twin seen for the first time, or
 * after a gap, is read whole from the hub (within a budget of reads a second, one at a
 * time); a long run of changes gets a checkpoint rebuilt from the history itself.
 */
export class Snapshots {
  private readonly pending = new Map<string, Wanted>();
  /**
   * The twin being read and stored now, and the newest version a change asked for meanwhile:
   * a read that returned an older version is followed by another.
   */
  private reading: { key: string; atLeast: number } | undefined;
  private readonly budget: TokenBucket;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private stopped = false;
  /** Who waits for every wanted snapshot to be read and stored (`idle`). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly hub: TwinReader,
    private readonly logger: Logger,
    private readonly options: {
      readsPerSecond: number;
      /** Snapshots waiting to be read; past this, the oldest wait for the next change. */
      maxPending: number;
      /** A snapshot was taken: the history now holds that version whole. */
      taken: (stored: StoredVersion) => void;
    },
  ) {
    this.budget = new TokenBucket(options.readsPerSecond, options.readsPerSecond);
  }

  /**
   * Whether the changes this replica stored follow what is stored: a twin without a snapshot,
   * or whose version jumps, wants one read from the hub; a long run of changes gets a
   * checkpoint.
   */
  async check(
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
      if (found.snapshots === 0) this.want(ref, 'first-seen', found.v ?? 0);
      else if (found.v === null || !found.previous || found.oversized)
        this.want(ref, 'gap', found.v ?? 0);
      else if (found.newest !== null && found.v - found.newest >= CHECKPOINT_EVERY) {
        const k = twinKey(ref);
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

  private want(ref: TwinRef, reason: 'first-seen' | 'gap', atLeast: number): void {
    if (this.stopped) return;
    const k = twinKey(ref);
    // Being read now: a change arriving meanwhile (its batch sees no snapshot yet) asks for a
    // second read only if the one under way may have read an older version.
    if (this.reading?.key === k) {
      this.reading.atLeast = Math.max(this.reading.atLeast, atLeast);
      return;
    }
    const waiting = this.pending.get(k);
    if (waiting) {
      waiting.atLeast = Math.max(waiting.atLeast, atLeast);
      return;
    }
    if (this.pending.size >= this.options.maxPending) return;
    this.pending.set(k, { ref, reason, atLeast });
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
        const [k, { ref, reason, atLeast }] = this.pending.entries().next().value!;
        this.pending.delete(k);
        const reading = { key: k, atLeast };
        this.reading = reading;
        let read = Infinity;
        try {
          const twin = await this.hub.getTwin(ref.deviceId, ref.moduleId);
          await this.db.query(
            `INSERT INTO twin_snapshots (device_id, module_id, version, twin, reason)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [ref.deviceId, ref.moduleId ?? '', twin.version, twin, reason],
          );
          read = twin.version;
          this.options.taken({ ...ref, version: twin.version });
        } catch (error) {
          // A twin deleted meanwhile, a hub that throttles: the next change asks again.
          this.logger.warn('twin history: snapshot not taken', {
            deviceId: ref.deviceId,
            ...(ref.moduleId ? { moduleId: ref.moduleId } : {}),
            message: (error as Error).message,
          });
        } finally {
          const wanted = reading.atLeast;
          this.reading = undefined;
          // A change newer than what was read came while it was read: that version's
          // snapshot is still owed, and is read once more (a twin deleted and made again
          // restarts at version 1, so no version is waited for; a failed read waits for the
          // next change instead).
          if (read < wanted && !this.stopped)
            this.pending.set(k, { ref, reason: 'gap', atLeast: 0 });
        }
      }
    } finally {
      this.draining = false;
      if (this.pending.size === 0) this.wakeIdle();
    }
  }

  /** Resolves once no snapshot is wanted or being read (at once when none is). */
  idle(): Promise<void> {
    if (this.stopped || (!this.draining && this.pending.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.pending.clear();
    this.wakeIdle();
  }
}
