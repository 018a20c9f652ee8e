import { createHash } from 'node:crypto';
import type { RolloutStatus, RolloutTarget, RolloutTargetState } from '@twinscope/contract';
import type { Database, Sql } from '../adapters/store/sql.ts';
import type { Actor } from '../audit/records.ts';
import {
  ACTIVE,
  DRIVEN,
  refOf,
  type RolloutRow,
  type Spec,
  type TargetRow,
} from './rollout-rows.ts';
import type { Sections } from './plan.ts';
import type { TargetRef } from './targets.ts';

/** The order targets go in: spread over the fleet (not alphabetical), the same on every replica. */
const rank = (id: string, target: TargetRef) =>
  createHash('sha1')
    .update(`${id}\n${target.deviceId}\n${target.moduleId ?? ''}`)
    .digest('hex');

/**
 * The rollout tables: every replica reads and writes them; the lease says who drives.
 *
 * Why one long file (a little over 400 lines): it is every SQL statement on the rollout
 * tables, and each guards the others' invariants (a target moves only from the states
 * given, only while its rollout has the status given and this replica holds the lease), so
 * they are read and changed together.
 */
export class RolloutStore {
  constructor(private readonly db: Database) {}

  /**
   * Stores a new rollout once \`check\` accepts the active rollouts counted in the same
   * transaction: one start at a time across replicas, so limits hold however fast people start.
   */
  async create(
    id: string,
    name: string,
    spec: Spec,
    actor: Actor,
    check: (active: { all: number; theirs: number }) => void = () => undefined,
  ): Promise<RolloutRow> {
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('twinscope_rollout_start'))");
      check(await this.active(actor.id, tx));
      const { rows } = await tx.query<RolloutRow>(
        `INSERT INTO rollouts (id, name, created_by_id, created_by_name, spec, status, message)
         VALUES ($1, $2, $3, $4, $5, 'preparing', 'Finding the targets.') RETURNING *`,
        [id, name, actor.id, actor.name, spec],
      );
      return rows[0]!;
    });
  }

  async get(id: string, sql: Sql = this.db): Promise<RolloutRow | undefined> {
    const { rows } = await sql.query<RolloutRow>('SELECT * FROM rollouts WHERE id = $1', [id]);
    return rows[0];
  }

  /** Newest first, a page at a time: `before` is where the page before ended. */
  async list(limit: number, before?: { createdAt: Date; id: string }): Promise<RolloutRow[]> {
    const { rows } = await this.db.query<RolloutRow>(
      `SELECT * FROM rollouts
       WHERE $1::timestamptz IS NULL OR (created_at, id::text) < ($1::timestamptz, $2::text)
       ORDER BY created_at DESC, id::text DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
      [before?.createdAt ?? null, before?.id ?? null],
    );
    return rows;
  }

  /** Rollouts that hold their twins now: in all, and those this person started. */
  async active(actorId: string, sql: Sql = this.db): Promise<{ all: number; theirs: number }> {
    const { rows } = await sql.query<{ all: number; theirs: number }>(
      `SELECT count(*)::integer AS all,
         count(*) FILTER (WHERE created_by_id = $2)::integer AS theirs
       FROM rollouts WHERE status = ANY($1::text[])`,
      [ACTIVE, actorId],
    );
    return rows[0] ?? { all: 0, theirs: 0 };
  }

  /** The targets a job calls that wait for its outcome. */
  async withJob(id: string, jobId: string): Promise<TargetRow[]> {
    const { rows } = await this.db.query<TargetRow>(
      `SELECT * FROM rollout_targets WHERE rollout_id = $1 AND job_id = $2 AND state = 'writing'`,
      [id, jobId],
    );
    return rows;
  }

  /** The IoT Hub jobs its waves ran as, oldest first. */
  async jobs(id: string): Promise<{ wave: number; jobId: string }[]> {
    const { rows } = await this.db.query<{ wave: number; job_id: string }>(
      `SELECT DISTINCT wave, job_id FROM rollout_targets WHERE rollout_id = $1 AND job_id IS NOT NULL
       ORDER BY wave, job_id`,
      [id],
    );
    return rows.map((row) => ({ wave: row.wave, jobId: row.job_id }));
  }

  /** Targets by state, for the rollout and per wave. */
  async counts(id: string): Promise<{ wave: number; state: RolloutTargetState; n: number }[]> {
    const { rows } = await this.db.query<{ wave: number; state: RolloutTargetState; n: number }>(
      `SELECT wave, state, count(*)::integer AS n FROM rollout_targets WHERE rollout_id = $1
       GROUP BY wave, state`,
      [id],
    );
    return rows;
  }

  async targets(
    id: string,
    filter: { state?: RolloutTargetState; wave?: number; after?: string; limit: number },
  ): Promise<{ items: RolloutTarget[]; next?: string }> {
    const params: unknown[] = [id];
    const conditions = ['rollout_id = $1'];
    if (filter.state) conditions.push(`state = $${params.push(filter.state)}`);
    if (filter.wave !== undefined) conditions.push(`wave = $${params.push(filter.wave)}`);
    if (filter.after !== undefined) {
      const [deviceId, moduleId = ''] = filter.after.split('/');
      conditions.push(
        `(device_id, module_id) > ($${params.push(deviceId)}, $${params.push(moduleId)})`,
      );
    }
    const { rows } = await this.db.query<TargetRow>(
      `SELECT * FROM rollout_targets WHERE ${conditions.join(' AND ')}
       ORDER BY device_id, module_id LIMIT ${filter.limit + 1}`,
      params,
    );
    const items = rows.slice(0, filter.limit).map((row) => ({
      ...refOf(row),
      wave: row.wave,
      state: row.state,
      ...(row.error ? { error: row.error } : {}),
      updatedAt: row.updated_at.toISOString(),
    }));
    const last = items.at(-1);
    return {
      items,
      ...(rows.length > filter.limit && last
        ? { next: last.moduleId ? `${last.deviceId}/${last.moduleId}` : last.deviceId }
        : {}),
    };
  }

  /**
   * Takes the lease of a rollout a replica should drive and nobody does (or whose driver's
   * lease ran out): at most one replica holds it at a time.
   */
  async claim(owner: string, seconds: number, skip: string[]): Promise<string | undefined> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE rollouts SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
       WHERE id = (SELECT id FROM rollouts WHERE status = ANY($3::text[]) AND NOT (id = ANY($4::text[]))
         AND (lease_until IS NULL OR lease_until < now()) ORDER BY created_at LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [owner, seconds, DRIVEN, skip],
    );
    return rows[0]?.id;
  }

  /** Keeps the lease; false when another replica has it now. */
  async renew(id: string, owner: string, seconds: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE rollouts SET lease_until = now() + make_interval(secs => $3)
       WHERE id = $1 AND lease_owner = $2 RETURNING id`,
      [id, owner, seconds],
    );
    return rows.length > 0;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.db.query(
      'UPDATE rollouts SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2',
      [id, owner],
    );
  }

  /**
   * Moves a rollout from one of some statuses to another (a person's action or the driver's
   * step); answers the row, or undefined when it was not in one of them (someone was first).
   */
  async transition(
    id: string,
    from: readonly RolloutStatus[],
    to: RolloutStatus,
    changes: {
      message?: string | null;
      wave?: number;
      waveWrittenAt?: 'now' | null;
      writesPerSecond?: number | null;
      approvedBy?: Actor;
      rollbackBy?: Actor;
      /** Only while this replica holds the lease. */
      owner?: string;
    } = {},
  ): Promise<RolloutRow | undefined> {
    const params: unknown[] = [id, from, to];
    const sets = ['status = $3', 'updated_at = now()'];
    if (changes.message !== undefined) sets.push(`message = $${params.push(changes.message)}`);
    if (changes.wave !== undefined) sets.push(`wave = $${params.push(changes.wave)}`);
    if (changes.waveWrittenAt !== undefined)
      sets.push(`wave_written_at = ${changes.waveWrittenAt === 'now' ? 'now()' : 'NULL'}`);
    if (changes.writesPerSecond !== undefined)
      sets.push(`writes_per_second = $${params.push(changes.writesPerSecond)}`);
    if (changes.approvedBy)
      sets.push(
        `approved_by = $${params.push({ ...changes.approvedBy, at: new Date().toISOString() })}`,
      );
    if (changes.rollbackBy)
      sets.push(
        `rollback_by = $${params.push({ ...changes.rollbackBy, at: new Date().toISOString() })}`,
      );
    const owned = changes.owner ? ` AND lease_owner = $${params.push(changes.owner)}` : '';
    const { rows } = await this.db.query<RolloutRow>(
      `UPDATE rollouts SET ${sets.join(', ')} WHERE id = $1 AND status = ANY($2::text[])${owned}
       RETURNING *`,
      params,
    );
    return rows[0];
  }

  /** A note on what is happening (the hub throttles, a retry is coming), without a step. */
  async note(id: string, owner: string, message: string | null): Promise<void> {
    await this.db.query(
      'UPDATE rollouts SET message = $3, updated_at = now() WHERE id = $1 AND lease_owner = $2',
      [id, owner, message],
    );
  }

  /**
   * Stores the targets in their waves and starts the rollout, in one transaction taken in
   * turn with every other rollout starting (an advisory lock): when another active rollout
   * holds some of the same twins, nothing is stored and the clash is answered instead.
   */
  async begin(
    id: string,
    owner: string,
    targets: TargetRef[],
    sizes: number[],
  ): Promise<
    | { started: true }
    | { started: false; clash: { rollout: string; name: string; twins: string[]; count: number } }
  > {
    const ordered = targets
      .map((target) => ({ target, rank: rank(id, target) }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
      .map(({ target }) => target);
    const waves: number[] = [];
    sizes.forEach((size, wave) => {
      for (let i = 0; i < size; i++) waves.push(wave);
    });
    const clash = await this.db
      .transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('twinscope_rollout_targets'))");
        for (let start = 0; start < ordered.length; start += 5000) {
          const chunk = ordered.slice(start, start + 5000);
          await tx.query(
            `INSERT INTO rollout_targets (rollout_id, device_id, module_id, wave)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::integer[])`,
            [
              id,
              chunk.map((t) => t.deviceId),
              chunk.map((t) => t.moduleId ?? ''),
              waves.slice(start, start + chunk.length),
            ],
          );
        }
        const { rows } = await tx.query<{
          rollout: string;
          name: string;
          twins: string[];
          count: number;
        }>(
          `SELECT r.id AS rollout, r.name, count(*)::integer AS count,
           (array_agg(CASE WHEN o.module_id = '' THEN o.device_id ELSE o.device_id || '/' || o.module_id END
             ORDER BY o.device_id, o.module_id))[1:5] AS twins
         FROM rollout_targets n
         JOIN rollout_targets o ON o.device_id = n.device_id AND o.module_id = n.module_id
           AND o.rollout_id <> n.rollout_id
         JOIN rollouts r ON r.id = o.rollout_id AND r.status = ANY($2::text[])
         WHERE n.rollout_id = $1 GROUP BY r.id, r.name ORDER BY count DESC LIMIT 1`,
          [id, ACTIVE],
        );
        if (rows[0]) throw new Clash(rows[0]);
        const started = await tx.query(
          `UPDATE rollouts SET status = 'running', waves = $3, message = NULL, updated_at = now()
         WHERE id = $1 AND status = 'preparing' AND lease_owner = $2 RETURNING id`,
          [id, owner, JSON.stringify(sizes)],
        );
        if (started.rows.length === 0) throw new Clash(undefined);
        return undefined;
      })
      .catch((error: unknown) => {
        if (error instanceof Clash) return error.holder;
        throw error;
      });
    if (clash === undefined) return { started: true };
    return { started: false, clash: clash ?? { rollout: '', name: '', twins: [], count: 0 } };
  }

  /** Up to `limit` targets of a wave in some states, in the rollout's order. */
  async next(
    id: string,
    wave: number | undefined,
    states: readonly RolloutTargetState[],
    limit: number,
    after?: TargetRef,
    /** Only targets that hold what undoes a write. */
    undoable = false,
  ): Promise<TargetRow[]> {
    const params: unknown[] = [id, states];
    let inWave = wave === undefined ? '' : ` AND wave = $${params.push(wave)}`;
    if (after)
      inWave += ` AND (device_id, module_id) > ($${params.push(after.deviceId)}, $${params.push(after.moduleId ?? '')})`;
    if (undoable) inWave += ' AND inverse IS NOT NULL';
    const { rows } = await this.db.query<TargetRow>(
      `SELECT * FROM rollout_targets WHERE rollout_id = $1 AND state = ANY($2::text[])${inWave}
       ORDER BY device_id, module_id LIMIT ${limit}`,
      params,
    );
    return rows;
  }

  /**
   * Moves one target on, only while `owner` drives the rollout and the target is still in
   * one of `from`: a replica that lost its lease writes nothing more.
   */
  async mark(
    id: string,
    owner: string,
    target: TargetRef,
    from: readonly RolloutTargetState[],
    to: RolloutTargetState,
    extra: {
      inverse?: Partial<Sections> | null;
      error?: string | null;
      attempt?: boolean;
      /** Only while the rollout is in this status (a pause stops new writes at once). */
      whileStatus?: RolloutStatus;
    } = {},
  ): Promise<boolean> {
    const params: unknown[] = [id, target.deviceId, target.moduleId ?? '', from, to, owner];
    const sets = ['state = $5', 'updated_at = now()'];
    if (extra.inverse !== undefined) sets.push(`inverse = $${params.push(extra.inverse)}`);
    if (extra.error !== undefined) sets.push(`error = $${params.push(extra.error)}`);
    if (extra.attempt) sets.push('attempts = attempts + 1');
    const { rows } = await this.db.query(
      `UPDATE rollout_targets SET ${sets.join(', ')}
       WHERE rollout_id = $1 AND device_id = $2 AND module_id = $3 AND state = ANY($4::text[])
         AND EXISTS (SELECT 1 FROM rollouts WHERE id = $1 AND lease_owner = $6 AND lease_until > now()${extra.whileStatus ? ` AND status = $${params.push(extra.whileStatus)}` : ''})
       RETURNING 1`,
      params,
    );
    return rows.length > 0;
  }

  /**
   * Moves many targets on in one statement, each with its own undoing or error, under the
   * same guards as `mark`; answers the keys of those that moved.
   */
  async markMany(
    id: string,
    owner: string,
    items: { target: TargetRef; inverse?: Partial<Sections> | null; error?: string | null }[],
    from: readonly RolloutTargetState[],
    to: RolloutTargetState,
    options: { attempt?: boolean; whileStatus?: RolloutStatus; jobId?: string } = {},
  ): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const params: unknown[] = [
      id,
      JSON.stringify(
        items.map(({ target, inverse, error }) => ({
          device_id: target.deviceId,
          module_id: target.moduleId ?? '',
          keep_inverse: inverse === undefined,
          inverse: inverse ?? null,
          keep_error: error === undefined,
          error: error ?? null,
        })),
      ),
      from,
      to,
      owner,
    ];
    const status = options.whileStatus ? ` AND status = $${params.push(options.whileStatus)}` : '';
    const job = options.jobId ? `, job_id = $${params.push(options.jobId)}` : '';
    const { rows } = await this.db.query<{ device_id: string; module_id: string }>(
      `UPDATE rollout_targets t SET state = $4, updated_at = now(),
         inverse = CASE WHEN u.keep_inverse THEN t.inverse ELSE u.inverse END,
         error = CASE WHEN u.keep_error THEN t.error ELSE u.error END
         ${options.attempt ? ', attempts = t.attempts + 1' : ''}${job}
       FROM jsonb_to_recordset($2::jsonb) AS u(device_id text, module_id text,
         keep_inverse boolean, inverse jsonb, keep_error boolean, error text)
       WHERE t.rollout_id = $1 AND t.device_id = u.device_id AND t.module_id = u.module_id
         AND t.state = ANY($3::text[])
         AND EXISTS (SELECT 1 FROM rollouts WHERE id = $1 AND lease_owner = $5 AND lease_until > now()${status})
       RETURNING t.device_id, t.module_id`,
      params,
    );
    return new Set(
      rows.map((row) => (row.module_id ? `${row.device_id}/${row.module_id}` : row.device_id)),
    );
  }

  /** Every target of a wave still in one state moves to another (the condition's verdict). */
  async markAll(
    id: string,
    owner: string,
    wave: number,
    from: RolloutTargetState,
    to: RolloutTargetState,
    error: string | null,
  ): Promise<number> {
    const { rows } = await this.db.query(
      `UPDATE rollout_targets SET state = $4, error = $5, updated_at = now()
       WHERE rollout_id = $1 AND wave = $2 AND state = $3
         AND EXISTS (SELECT 1 FROM rollouts WHERE id = $1 AND lease_owner = $6)
       RETURNING 1`,
      [id, wave, from, to, error, owner],
    );
    return rows.length;
  }
}

class Clash extends Error {
  constructor(
    readonly holder: { rollout: string; name: string; twins: string[]; count: number } | undefined,
  ) {
    super('clash');
  }
}
