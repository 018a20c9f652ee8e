import {
  DEFAULT_OVERVIEW_SETTINGS,
  StoredOverviewSettingsSchema,
  OverviewSnapshotSchema,
  type OverviewPoint,
  type OverviewResponse,
  type OverviewSettings,
  type OverviewSnapshot,
} from '@twinscope/contract';
import { randomUUID } from 'node:crypto';
import { describeRate } from '@twinscope/hub-quotas';
import { audited } from '../audit/audited.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Actor } from '../audit/records.ts';
import type { Database } from '../adapters/store/sql.ts';
import { unavailable } from '../adapters/store/sql.ts';
import type { Logger } from '../log.ts';
import type { HubBudget } from '../quota/hub-budget.ts';
import { ACTIVE } from '../rollouts/rollout-rows.ts';
import { driftingOf, expectedQueries, lookAtHub, type LookHub } from './look.ts';

export interface OverviewOptions {
  /** This replica's name, recorded with the look it takes. */
  replicaId: string;
  /** The share of the hub's queries a minute the looks may use. */
  queryShare: number;
  /** Never more often than this. */
  minIntervalSeconds: number;
  /** How often each replica asks whether a look is due. */
  tickMs?: number;
}

/**
 * Seconds between looks: one look's queries at the share of the hub's query rate the
 * overview may use (one S1 unit: 20 a minute for the whole hub, so at 20 % a look of five
 * queries every 75 s), never more often than the floor. Without a quota, the floor.
 */
export function overviewInterval(
  queriesPerLook: number,
  hubQueriesPerMinute: number | undefined,
  share: number,
  minSeconds: number,
): number {
  if (hubQueriesPerMinute === undefined) return minSeconds;
  const perMinute = hubQueriesPerMinute * share;
  return Math.max(minSeconds, Math.ceil((queriesPerLook / perMinute) * 60));
}

/** How long after a minute its messages are still added to it. */
const KEEP_COUNTING_MS = 5 * 60_000;

const SETTLED_TARGETS = [
  'unchanged',
  'succeeded',
  'failed',
  'skipped',
  'reverted',
  'revert_skipped',
];

/** The last 60 minutes, each with its count (0 where none was read), oldest first. */
function lastHour(rows: { at: Date; messages: number }[]): { at: string; messages: number }[] {
  if (rows.length === 0) return [];
  const counted = new Map(rows.map((r) => [r.at.getTime(), Number(r.messages)]));
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  return Array.from({ length: 60 }, (_, i) => {
    const at = now - (59 - i) * 60_000;
    return { at: new Date(at).toISOString(), messages: counted.get(at) ?? 0 };
  });
}

/**
 * The overview, the console's landing page. One replica at a time looks at the hub on a
 * schedule the hub's tier allows (the schedule row in the database: whoever moves its due
 * time on takes the look), and stores what it found with when; every tab on every replica
 * reads that from the database, so the hub is asked the same however many people look.
 * Each look also keeps an hourly and a daily point for the trends. Every replica counts the
 * device-to-cloud messages its event consumer reads, per minute.
 */
export class Overview {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private readonly minutes = new Map<number, number>();
  /** What was last written of each minute still counted. */
  private readonly written = new Map<number, number>();
  private stopped = false;
  private writingQuota: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly hub: LookHub,
    private readonly audit: AuditTrail,
    private readonly budget: HubBudget,
    private readonly logger: Logger,
    private readonly options: OverviewOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      // What this replica's budget has in use is written every tick, a long look or not:
      // the replica spending most is the one the others' bars must not leave out.
      void this.writeQuota();
      if (!this.looking) void this.round();
    };
    tick();
    this.timer = setInterval(tick, this.options.tickMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // A look under way against a slow hub is not waited for long (its result is dropped).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.looking,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    await this.flushTelemetry().catch(() => undefined);
    // Its budget is gone with it: the others' overview no longer counts it (after a write
    // under way, which would otherwise put it back).
    await this.writingQuota;
    await this.db
      .query('DELETE FROM quota_use WHERE replica_id = $1', [this.options.replicaId])
      .catch(() => undefined);
  }

  /** Runs a round, remembered as the one under way (what `stop` waits for). */
  private round(): Promise<void> {
    const tracked: Promise<void> = this.tick().finally(() => {
      if (this.looking === tracked) this.looking = undefined;
    });
    this.looking = tracked;
    return tracked;
  }

  /** A round now, after the one under way (if any); waits for it at most `boundMs`. */
  private async lookNow(boundMs: number): Promise<void> {
    if (this.stopped) return;
    const round = (async () => {
      await this.looking;
      if (!this.stopped) await this.round();
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      round,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, boundMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  /** Device-to-cloud messages this replica's consumer read (counted per minute). */
  telemetryRead(count: number, at = Date.now()): void {
    const minute = Math.floor(at / 60_000) * 60_000;
    this.minutes.set(minute, (this.minutes.get(minute) ?? 0) + count);
  }

  /** One round: the telemetry counted so far is written; a look is taken when it is due. */
  async tick(): Promise<void> {
    try {
      await this.flushTelemetry();
      const settings = await this.settings();
      const interval = this.interval(settings);
      const claimed = await this.claim(interval);
      if (!claimed) return;
      const snapshot = await lookAtHub(this.hub, settings);
      if (this.stopped) return;
      await this.store(snapshot);
      // A look that cost more than foreseen (many Edge pages) spaces the next one out.
      const spent = overviewInterval(
        Math.max(snapshot.queries, expectedQueries(settings)),
        this.budget.queriesPerMinute,
        this.options.queryShare,
        this.options.minIntervalSeconds,
      );
      // Only if nobody moved the schedule meanwhile (a saved setting asks for a look now).
      if (spent > interval)
        await this.db.query(
          `UPDATE overview_schedule SET due_at = $1, interval_seconds = $2
            WHERE id = 1 AND taken_by = $3`,
          [new Date(Date.parse(snapshot.takenAt) + spent * 1000), spent, claimed],
        );
      this.logger.debug('overview look stored', {
        queries: snapshot.queries,
        tookMs: snapshot.tookMs,
        problems: snapshot.problems.length,
      });
    } catch (error) {
      this.logger.warn('overview look failed', { message: (error as Error).message });
    }
  }

  private interval(settings: OverviewSettings): number {
    return overviewInterval(
      expectedQueries(settings),
      this.budget.queriesPerMinute,
      this.options.queryShare,
      this.options.minIntervalSeconds,
    );
  }

  /**
   * Takes the next look if it is due and no other replica took it (one row, one winner);
   * answers this claim's mark (the replica and a fresh id), or undefined.
   */
  private async claim(intervalSeconds: number): Promise<string | undefined> {
    const mark = `${this.options.replicaId} ${randomUUID()}`;
    const { rows } = await this.db.query(
      `UPDATE overview_schedule
          SET due_at = now() + $2::integer * interval '1 second', taken_by = $1,
              interval_seconds = $2::integer
        WHERE id = 1 AND due_at <= now()
        RETURNING id`,
      [mark, intervalSeconds],
    );
    return rows.length > 0 ? mark : undefined;
  }

  private async store(snapshot: OverviewSnapshot): Promise<void> {
    const taken = new Date(snapshot.takenAt);
    const connected = snapshot.connection.find((b) => b.label === 'Connected')?.count ?? 0;
    // Trend points only from a look whose counts are whole: connection and every drift key.
    const complete = !snapshot.problems.some(
      (p) => p.chart === 'connection' || p.chart.startsWith('drift '),
    );
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO overview_snapshots (taken_at, snapshot) VALUES ($1, $2)
         ON CONFLICT (taken_at) DO UPDATE SET snapshot = EXCLUDED.snapshot`,
        [taken, JSON.stringify(snapshot)],
      );
      if (complete)
        for (const bucket of ['hour', 'day'])
          await tx.query(
            `INSERT INTO overview_points (bucket, at, devices, connected, drifting)
             VALUES ($1, date_trunc($1, $2::timestamptz), $3, $4, $5)
             ON CONFLICT (bucket, at) DO UPDATE
               SET devices = EXCLUDED.devices, connected = EXCLUDED.connected,
                   drifting = EXCLUDED.drifting`,
            [bucket, taken, snapshot.devices, connected, driftingOf(snapshot)],
          );
      // What no page reads any more.
      await tx.query(
        `DELETE FROM overview_snapshots WHERE taken_at < $1::timestamptz - interval '1 day'`,
        [taken],
      );
      await tx.query(
        `DELETE FROM overview_points
          WHERE (bucket = 'hour' AND at < $1::timestamptz - interval '8 days')
             OR (bucket = 'day' AND at < $1::timestamptz - interval '400 days')`,
        [taken],
      );
      await tx.query(
        `DELETE FROM telemetry_minutes WHERE at < $1::timestamptz - interval '2 days'`,
        [taken],
      );
      // What a replica that died (without deleting its own) last wrote.
      await tx.query(`DELETE FROM quota_use WHERE at < $1::timestamptz - interval '1 day'`, [
        taken,
      ]);
    });
  }

  /** Writes the minutes counted so far; the larger count of a minute stands (each replica reads all). */
  private async flushTelemetry(): Promise<void> {
    const current = Math.floor(Date.now() / 60_000) * 60_000;
    for (const [minute, messages] of [...this.minutes]) {
      if (this.written.get(minute) !== messages) {
        await this.db.query(
          `INSERT INTO telemetry_minutes (at, messages) VALUES ($1, $2)
           ON CONFLICT (at) DO UPDATE
             SET messages = GREATEST(telemetry_minutes.messages, EXCLUDED.messages)`,
          [new Date(minute), messages],
        );
        this.written.set(minute, messages);
      }
      // A minute's messages can still arrive a while after it (the hub's lag, a backlog read
      // late): its running total is kept, and written again when it grows, for five minutes.
      if (minute < current - KEEP_COUNTING_MS) {
        this.minutes.delete(minute);
        this.written.delete(minute);
      }
    }
  }

  /** Writes this replica's quota use, one write at a time; a failure is noted, not thrown. */
  private writeQuota(): Promise<void> {
    this.writingQuota ??= this.flushQuota()
      .catch((error: Error) =>
        this.logger.warn('quota use not written', { message: error.message }),
      )
      .finally(() => (this.writingQuota = undefined));
    return this.writingQuota;
  }

  /** This replica's budget in use per class, for the other replicas' overview. */
  private async flushQuota(): Promise<void> {
    if (!this.budget.quota) return;
    const used = this.budget.remaining();
    await this.db.query(
      `INSERT INTO quota_use (replica_id, kind, used, at)
       SELECT $1, kind, used, now() FROM unnest($2::text[], $3::float8[]) AS u (kind, used)
       ON CONFLICT (replica_id, kind) DO UPDATE SET used = EXCLUDED.used, at = EXCLUDED.at`,
      [this.options.replicaId, used.map(([kind]) => kind), used.map(([, left]) => 1 - left)],
    );
  }

  /**
   * The hub's throttles in use by the whole team: this replica's budget now, plus what every
   * other live replica wrote in the last 30 s. Each replica budgets the hub's full rate, so
   * the shares add up (over 1: together they spend faster than the hub allows).
   */
  private async quotaUse(): Promise<Pick<OverviewResponse, 'quota' | 'quotaReplicas'>> {
    if (!this.budget.quota) return {};
    const { rows } = await this.db.query<{ replica_id: string; kind: string; used: number }>(
      `SELECT replica_id, kind, used FROM quota_use
        WHERE replica_id <> $1 AND at > now() - interval '30 seconds'`,
      [this.options.replicaId],
    );
    const others = new Set(rows.map((r) => r.replica_id));
    return {
      quota: this.budget.remaining().map(([kind, left]) => ({
        kind,
        used:
          Math.max(0, 1 - left) +
          rows
            .filter((r) => r.kind === kind)
            .reduce((sum, r) => sum + Math.max(0, Number(r.used)), 0),
        rate: describeRate(this.budget.rate(kind)!),
      })),
      quotaReplicas: 1 + others.size,
    };
  }

  /** What the team chose, or the defaults. */
  async settings(): Promise<OverviewSettings> {
    const { rows } = await this.db.query<{ settings: unknown }>(
      'SELECT settings FROM overview_settings WHERE id = 1',
    );
    const parsed = StoredOverviewSettingsSchema.safeParse(rows[0]?.settings);
    return parsed.success ? parsed.data : DEFAULT_OVERVIEW_SETTINGS;
  }

  /** Changes what the overview shows (audited); the next look is taken at once. */
  async saveSettings(settings: OverviewSettings, actor: Actor): Promise<OverviewSettings> {
    const before = await this.settings();
    await audited(
      this.audit,
      {
        actor,
        action: 'fleet.overview-settings',
        target: { deviceId: '' },
        change: {
          tag: settings.tag,
          driftKeys: settings.driftKeys,
          moduleDriftKeys: settings.moduleDriftKeys,
        },
      },
      async () => {
        try {
          await this.db.transaction(async (tx) => {
            await tx.query(
              `INSERT INTO overview_settings (id, settings, updated_at, updated_by_id, updated_by_name)
               VALUES (1, $1, now(), $2, $3)
               ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings,
                 updated_at = now(), updated_by_id = EXCLUDED.updated_by_id,
                 updated_by_name = EXCLUDED.updated_by_name`,
              [JSON.stringify(settings), actor.id, actor.name],
            );
            // A look now, unless a saved setting forced one within the floor: saving again
            // and again must not spend the hub's queries (the next look comes on schedule).
            await tx.query(
              `UPDATE overview_schedule SET due_at = now(), forced_at = now(), taken_by = NULL
                WHERE id = 1
                  AND (forced_at IS NULL OR forced_at < now() - $1::integer * interval '1 second')`,
              [this.options.minIntervalSeconds],
            );
          });
        } catch (error) {
          throw unavailable(error, 'overview settings');
        }
      },
    );
    this.logger.info('overview settings changed', {
      tag: settings.tag,
      driftKeys: settings.driftKeys.length,
      moduleDriftKeys: settings.moduleDriftKeys.length,
      before: before.tag,
    });
    // This replica looks now rather than at its next tick, and answers once the look is
    // stored (at most 20 s), so the page that asked shows it at once.
    await this.lookNow(20_000);
    return settings;
  }

  /** The overview as tabs read it: from the database only, never the hub. */
  async read(): Promise<OverviewResponse> {
    try {
      return await this.readStored();
    } catch (error) {
      throw unavailable(error, 'overview');
    }
  }

  private async readStored(): Promise<OverviewResponse> {
    const settings = await this.settings();
    const [latest, schedule, hourly, daily, telemetry, rollouts] = await Promise.all([
      this.db.query<{ snapshot: unknown }>(
        'SELECT snapshot FROM overview_snapshots ORDER BY taken_at DESC LIMIT 1',
      ),
      this.db.query<{ due_at: Date; interval_seconds: number }>(
        'SELECT due_at, interval_seconds FROM overview_schedule WHERE id = 1',
      ),
      this.points('hour', '7 days'),
      this.points('day', '90 days'),
      this.db.query<{ at: Date; messages: number }>(
        `SELECT at, messages FROM telemetry_minutes
          WHERE at >= date_trunc('minute', now()) - interval '59 minutes' ORDER BY at`,
      ),
      this.db.query<{ id: string; name: string; status: string; done: number; total: number }>(
        `SELECT r.id, r.name, r.status,
                count(t.rollout_id) FILTER (WHERE t.state = ANY($2)) AS done,
                count(t.rollout_id) AS total
           FROM rollouts r LEFT JOIN rollout_targets t ON t.rollout_id = r.id
          WHERE r.status = ANY($1)
          GROUP BY r.id, r.name, r.status, r.created_at
          ORDER BY r.created_at DESC LIMIT 20`,
        [ACTIVE, SETTLED_TARGETS],
      ),
    ]);
    const parsed = OverviewSnapshotSchema.safeParse(latest.rows[0]?.snapshot);
    const row = schedule.rows[0];
    const quota = await this.quotaUse();
    return {
      ...(parsed.success ? { snapshot: parsed.data } : {}),
      settings,
      intervalSeconds: row?.interval_seconds ?? this.interval(settings),
      ...(row ? { nextAt: row.due_at.toISOString() } : {}),
      hourly,
      daily,
      telemetry: lastHour(telemetry.rows),
      rollouts: rollouts.rows.map((r) => ({
        id: r.id,
        name: r.name,
        state: r.status,
        done: Number(r.done),
        total: Number(r.total),
      })),
      ...quota,
    };
  }

  private async points(bucket: 'hour' | 'day', span: string): Promise<OverviewPoint[]> {
    const { rows } = await this.db.query<{
      at: Date;
      devices: number;
      connected: number;
      drifting: number;
    }>(
      `SELECT at, devices, connected, drifting FROM overview_points
        WHERE bucket = $1 AND at >= now() - $2::interval ORDER BY at`,
      [bucket, span],
    );
    return rows.map((r) => ({
      at: r.at.toISOString(),
      devices: r.devices,
      connected: r.connected,
      drifting: r.drifting,
    }));
  }
}
