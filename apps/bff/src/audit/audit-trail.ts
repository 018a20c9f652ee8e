import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditAction, AuditEntry, AuditFilter } from '@twinscope/contract';

export type { AuditFilter };
import type { Database, Sql } from '../adapters/store/sql.ts';
import type { JsonObject } from '@twinscope/twin';
import { AppError } from '../core/app-error.ts';
import type { Logger } from '../log.ts';

export interface Actor {
  id: string;
  name: string;
}

export interface AuditStart {
  actor: Actor;
  action: AuditAction;
  target: { deviceId: string; moduleId?: string; configurationId?: string; rolloutId?: string };
  change: JsonObject;
  before?: AuditEntry['before'];
  revert?: AuditEntry['revert'];
  revertOf?: string;
}

export interface AuditOutcome {
  result: 'succeeded' | 'refused' | 'failed' | 'unknown';
  after?: AuditEntry['after'];
  response?: AuditEntry['response'];
  error?: { code: string; message: string };
}

/** A line of the JSON-lines trail of earlier versions (imported once). */
type Line =
  | ({ phase: 'attempt'; id: string; at: string } & Omit<AuditEntry, 'id' | 'at' | 'result'>)
  | ({ phase: 'outcome'; id: string; at: string } & AuditOutcome);

/**
 * The most a record keeps of a change or of its revert patch. IoT Hub's twin rules already
 * bound a valid change; above this, the record keeps the patch's size and digest instead.
 */
export const MAX_RECORDED_BYTES = 32 * 1024;

/** The size and digest a record keeps of a patch too large to keep whole. */
function capped(patch: JsonObject): { kept: JsonObject; digest?: AuditEntry['changeDigest'] } {
  const text = JSON.stringify(patch);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_RECORDED_BYTES) return { kept: patch };
  return {
    kept: {},
    digest: { sha256: createHash('sha256').update(text).digest('hex'), bytes },
  };
}

interface Row {
  seq: number;
  id: string;
  at: Date;
  actor_id: string;
  actor_name: string;
  action: AuditAction;
  device_id: string;
  module_id: string;
  configuration_id: string | null;
  rollout_id: string | null;
  change: JsonObject;
  change_digest: AuditEntry['changeDigest'] | null;
  before: AuditEntry['before'] | null;
  after: AuditEntry['after'] | null;
  revert: AuditEntry['revert'] | null;
  revert_omitted: boolean;
  revert_of: string | null;
  response: AuditEntry['response'] | null;
  result: AuditEntry['result'];
  error: AuditEntry['error'] | null;
  finished_at: Date | null;
}

/** One record as the API shows it. */
function entryOf(row: Row): AuditEntry & { seq: number } {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at.toISOString(),
    actor: { id: row.actor_id, name: row.actor_name },
    action: row.action,
    target: {
      deviceId: row.device_id,
      ...(row.module_id ? { moduleId: row.module_id } : {}),
      ...(row.configuration_id ? { configurationId: row.configuration_id } : {}),
      ...(row.rollout_id ? { rolloutId: row.rollout_id } : {}),
    },
    change: row.change,
    ...(row.change_digest ? { changeDigest: row.change_digest } : {}),
    ...(row.before ? { before: row.before } : {}),
    ...(row.after ? { after: row.after } : {}),
    ...(row.revert ? { revert: row.revert } : {}),
    ...(row.revert_omitted ? { revertOmitted: true } : {}),
    ...(row.revert_of ? { revertOf: row.revert_of } : {}),
    ...(row.response ? { response: row.response } : {}),
    result: row.result,
    ...(row.error ? { error: row.error } : {}),
    ...(row.finished_at ? { finishedAt: row.finished_at.toISOString() } : {}),
  };
}

const strip = ({ seq: _seq, ...entry }: AuditEntry & { seq: number }): AuditEntry => entry;

const COLUMNS = `seq, id, at, actor_id, actor_name, action, device_id, module_id, configuration_id, rollout_id, change,
  change_digest, before, after, revert, revert_omitted, revert_of, response, result, error,
  finished_at`;

const INSERT_INTO = `INSERT INTO audit_entries (id, at, actor_id, actor_name, action, device_id,
  module_id, change, change_digest, before, revert, revert_omitted, revert_of, result, after,
  response, error, finished_at, configuration_id, rollout_id) VALUES`;
const PER_ROW = 20;
/** One INSERT of `rows` records (their values one after another). */
const insertOf = (rows: number) =>
  `${INSERT_INTO} ${Array.from(
    { length: rows },
    (_, r) =>
      `(${Array.from({ length: PER_ROW }, (_, c) => `$${r * PER_ROW + c + 1}`).join(', ')})`,
  ).join(', ')} ON CONFLICT (id) DO NOTHING`;
const INSERT = insertOf(1);

/** The row values of a record, attempt and (when known) outcome. */
function values(entry: AuditEntry): unknown[] {
  return [
    entry.id,
    entry.at,
    entry.actor.id,
    entry.actor.name,
    entry.action,
    entry.target.deviceId,
    entry.target.moduleId ?? '',
    entry.change,
    entry.changeDigest ?? null,
    entry.before ?? null,
    entry.revert ?? null,
    entry.revertOmitted ?? false,
    entry.revertOf ?? null,
    entry.result,
    entry.after ?? null,
    entry.response ?? null,
    entry.error ?? null,
    entry.finishedAt ?? null,
    entry.target.configurationId ?? null,
    entry.target.rolloutId ?? null,
  ];
}

/** WHERE conditions and their parameters for a filter (values are always parameters). */
function where(filter: AuditFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.actor)
    conditions.push(
      `(actor_id = ${param(filter.actor)} OR actor_name ILIKE ${param(`%${filter.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)})`,
    );
  if (filter.deviceId) conditions.push(`device_id = ${param(filter.deviceId)}`);
  if (filter.kind) conditions.push(`action LIKE ${param(`${filter.kind}.%`)}`);
  if (filter.from) conditions.push(`at >= ${param(filter.from)}`);
  if (filter.to) conditions.push(`at < ${param(filter.to)}`);
  return conditions;
}

/**
 * The audit trail, in the team's database: one table every replica writes. A write is
 * recorded in two steps: the attempt is committed before the hub is called, the outcome
 * after. So a write that reached the hub is never missing from the trail: if the BFF dies in
 * between, the attempt remains and reads as outcome `unknown`. If the attempt cannot be
 * committed (the database is down or full), the write is refused before the hub is called.
 * Every replica hears every record through LISTEN/NOTIFY.
 */
export class AuditTrail {
  private readonly listeners = new Set<(entry: AuditEntry) => void>();
  private stopListening: (() => Promise<void>) | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Starts hearing every replica's records, and deleting those past the retention. */
  async start(options: { retentionDays?: number } = {}): Promise<void> {
    this.stopListening = await this.db.listen('twinscope_audit', (id) => {
      if (this.listeners.size === 0) return;
      this.get(id).then(
        (entry) => {
          if (entry) this.announce(entry);
        },
        (error: unknown) =>
          this.logger.warn('audit record could not be read for the live view', {
            message: (error as Error).message,
          }),
      );
    });
    const days = options.retentionDays;
    if (days) {
      const prune = () =>
        void this.prune(days).catch((error: unknown) =>
          this.logger.warn('audit retention failed', { message: (error as Error).message }),
        );
      prune();
      this.retentionTimer = setInterval(prune, 60 * 60 * 1000);
      this.retentionTimer.unref();
    }
  }

  /** Deletes records older than the retention; returns how many. */
  async prune(retentionDays: number): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM audit_entries WHERE at < now() - make_interval(days => $1) RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [retentionDays],
    );
    return rows[0]?.n ?? 0;
  }

  private announce(entry: AuditEntry): void {
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch (error) {
        this.logger.warn('audit listener failed', { message: (error as Error).message });
      }
    }
  }

  /** Hears every record (any replica's) when its attempt is written and again with its outcome. */
  onRecord(listener: (entry: AuditEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private refused(error: unknown): AppError {
    this.logger.error('audit trail write failed; the change was refused', {
      message: (error as Error).message,
    });
    return new AppError(
      'hub_unreachable',
      'The audit trail cannot be written, so nothing was changed. Ask an administrator to check the BFF and its database.',
    );
  }

  private attempt(start: AuditStart): AuditEntry {
    const change = capped(start.change);
    const revertText = start.revert ? JSON.stringify(start.revert) : '';
    const keepRevert =
      start.revert !== undefined && Buffer.byteLength(revertText) <= MAX_RECORDED_BYTES;
    return {
      id: randomUUID(),
      at: new Date().toISOString(),
      actor: start.actor,
      action: start.action,
      target: start.target,
      change: change.kept,
      ...(change.digest ? { changeDigest: change.digest } : {}),
      ...(start.before ? { before: start.before } : {}),
      ...(keepRevert ? { revert: start.revert } : {}),
      ...(start.revert && !keepRevert ? { revertOmitted: true } : {}),
      ...(start.revertOf ? { revertOf: start.revertOf } : {}),
      result: 'unknown',
    };
  }

  private ending(id: string): (outcome: AuditOutcome) => Promise<void> {
    return async (outcome) => {
      try {
        await this.db.query(
          `UPDATE audit_entries SET result = $2, after = $3, response = $4, error = $5,
             finished_at = now() WHERE id = $1`,
          [
            id,
            outcome.result,
            outcome.after ?? null,
            outcome.response ?? null,
            outcome.error ?? null,
          ],
        );
      } catch (error) {
        // The attempt is committed; the entry reads as `unknown` rather than vanishing.
        this.logger.error('audit outcome write failed', { id, message: (error as Error).message });
      }
    };
  }

  /** Commits an attempt; refuses (503) when it cannot be committed, before any change. */
  async begin(
    start: AuditStart,
  ): Promise<{ end(outcome: AuditOutcome): Promise<void>; id: string }> {
    if (this.closed) throw this.refused(new Error('the audit trail is closed'));
    const entry = this.attempt(start);
    try {
      await this.db.query(INSERT, values(entry));
    } catch (error) {
      throw this.refused(error);
    }
    return { id: entry.id, end: this.ending(entry.id) };
  }

  /** Commits many attempts at once (a bulk change, a rollout's writes), all or none. */
  async beginMany(
    starts: AuditStart[],
  ): Promise<{ end(outcome: AuditOutcome): Promise<void>; id: string }[]> {
    if (this.closed) throw this.refused(new Error('the audit trail is closed'));
    const entries = starts.map((start) => this.attempt(start));
    try {
      await this.db.transaction(async (tx) => {
        for (let at = 0; at < entries.length; at += 200) {
          const rows = entries.slice(at, at + 200);
          await tx.query(insertOf(rows.length), rows.flatMap(values));
        }
      });
    } catch (error) {
      throw this.refused(error);
    }
    return entries.map((entry) => ({ id: entry.id, end: this.ending(entry.id) }));
  }

  /**
   * Writes many outcomes in one statement: by record id (a rollout's twin writes), or by
   * target for a rollout's calls whose attempts are still open (a job's devices answer long
   * after their attempts were written, maybe on another replica). A failure is logged: the
   * attempts are committed, so the entries read as `unknown` rather than vanishing.
   */
  async endMany(
    outcomes: (
      | { id: string; outcome: AuditOutcome }
      | { rolloutId: string; deviceId: string; moduleId?: string; outcome: AuditOutcome }
    )[],
  ): Promise<void> {
    const row = (outcome: AuditOutcome) => ({
      result: outcome.result,
      after: outcome.after ?? null,
      response: outcome.response ?? null,
      error: outcome.error ?? null,
    });
    const byId = outcomes.flatMap((o) => ('id' in o ? [{ id: o.id, ...row(o.outcome) }] : []));
    const byTarget = outcomes.flatMap((o) =>
      'rolloutId' in o
        ? [
            {
              rollout_id: o.rolloutId,
              device_id: o.deviceId,
              module_id: o.moduleId ?? '',
              ...row(o.outcome),
            },
          ]
        : [],
    );
    const set = `result = u.result, after = u.after, response = u.response, error = u.error,
      finished_at = now()`;
    const columns = 'result text, after jsonb, response jsonb, error jsonb';
    try {
      if (byId.length > 0)
        await this.db.query(
          `UPDATE audit_entries a SET ${set}
           FROM jsonb_to_recordset($1::jsonb) AS u(id uuid, ${columns}) WHERE a.id = u.id`,
          [JSON.stringify(byId)],
        );
      if (byTarget.length > 0)
        await this.db.query(
          `UPDATE audit_entries a SET ${set}
           FROM jsonb_to_recordset($1::jsonb)
             AS u(rollout_id text, device_id text, module_id text, ${columns})
           WHERE a.rollout_id = u.rollout_id AND a.device_id = u.device_id
             AND a.module_id = u.module_id AND a.action = 'rollout.write' AND a.result = 'unknown'`,
          [JSON.stringify(byTarget)],
        );
    } catch (error) {
      this.logger.error('audit outcome write failed', {
        ids: outcomes.length,
        message: (error as Error).message,
      });
    }
  }

  private async select(
    conditions: string[],
    params: unknown[],
    limit: number,
    order: 'ASC' | 'DESC' = 'DESC',
    sql: Sql = this.db,
  ): Promise<(AuditEntry & { seq: number })[]> {
    if (this.closed) throw new AppError('hub_unreachable', 'The audit trail is closed.');
    const { rows } = await sql.query<Row>(
      `SELECT ${COLUMNS} FROM audit_entries
       ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY seq ${order} LIMIT ${Math.max(1, Math.floor(limit))}`,
      params,
    );
    return rows.map(entryOf);
  }

  async get(id: string): Promise<AuditEntry | undefined> {
    const [found] = await this.select(['id = $1'], [id], 1);
    return found ? strip(found) : undefined;
  }

  /**
   * One twin's (or module's) history, newest first, a page at a time: `before` is the
   * cursor a previous page answered, and `next` the one for the page after this.
   */
  async forTarget(
    target: { deviceId: string; moduleId?: string },
    page: { limit: number; before?: number } = { limit: 20 },
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    const params: unknown[] = [target.deviceId, target.moduleId ?? ''];
    return this.page(['device_id = $1', 'module_id = $2'], params, page);
  }

  /** A page newest first under some conditions: `next` is the cursor for the one after. */
  private async page(
    conditions: string[],
    params: unknown[],
    page: { limit: number; before?: number },
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    if (page.before !== undefined) conditions.push(`seq < $${params.push(page.before)}`);
    const found = await this.select(conditions, params, page.limit + 1);
    const entries = found.slice(0, page.limit);
    return {
      entries: entries.map(strip),
      ...(found.length > page.limit ? { next: entries.at(-1)!.seq } : {}),
    };
  }

  /** The fleet's trail, newest first, filtered, a page at a time. */
  async search(
    filter: AuditFilter,
    page: { limit: number; before?: number },
  ): Promise<{ entries: AuditEntry[]; next?: number }> {
    const params: unknown[] = [];
    return this.page(where(filter, params), params, page);
  }

  /** The newest entries of one action on a target (the recent direct methods of a device). */
  async recent(
    target: { deviceId: string; moduleId?: string },
    action: AuditEntry['action'],
    limit: number,
  ): Promise<AuditEntry[]> {
    const found = await this.select(
      ['device_id = $1', 'module_id = $2', 'action = $3'],
      [target.deviceId, target.moduleId ?? '', action],
      limit,
    );
    return found.map(strip);
  }

  /**
   * What was done to a device and its modules since a time, newest first, at most `limit`
   * (a device's timeline).
   */
  async forDevice(deviceId: string, since: string, limit: number): Promise<AuditEntry[]> {
    const found = await this.select(['device_id = $1', 'at >= $2'], [deviceId, since], limit);
    return found.map(strip);
  }

  /** Every entry matching a filter, oldest first (for export), a page at a time. */
  async *all(filter: AuditFilter = {}): AsyncGenerator<AuditEntry> {
    let after = 0;
    for (;;) {
      const params: unknown[] = [];
      const conditions = where(filter, params);
      conditions.push(`seq > $${params.push(after)}`);
      const page = await this.select(conditions, params, 500, 'ASC');
      for (const entry of page) yield strip(entry);
      if (page.length < 500) return;
      after = page.at(-1)!.seq;
    }
  }

  /**
   * Imports a JSON-lines trail of an earlier version once (attempts with their outcomes; an
   * attempt without one reads `unknown`). Returns how many records it held, or undefined
   * when there was nothing to import.
   */
  async importFile(file: string): Promise<number | undefined> {
    const path = resolve(file);
    if (!existsSync(path)) return undefined;
    const done = await this.db.query('SELECT 1 FROM audit_imports WHERE file = $1', [path]);
    if (done.rows.length > 0) return undefined;
    const records = new Map<string, AuditEntry>();
    const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // a line torn by a crash mid-append
      }
      if (line.phase === 'attempt') {
        const { phase: _phase, ...attempt } = line;
        records.set(line.id, { ...attempt, result: 'unknown' });
      } else if (line.phase === 'outcome') {
        const record = records.get(line.id);
        if (!record) continue;
        const { phase: _phase, id: _id, at, ...outcome } = line;
        records.set(line.id, { ...record, ...outcome, finishedAt: at });
      }
    }
    await this.db.transaction(async (tx) => {
      for (const record of records.values()) await tx.query(INSERT, values(record));
      await tx.query('INSERT INTO audit_imports (file, entries) VALUES ($1, $2)', [
        path,
        records.size,
      ]);
    });
    return records.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retentionTimer);
    await this.stopListening?.().catch(() => undefined);
    this.stopListening = undefined;
  }
}

/** How a write that threw is recorded: refused by a rule, failed, or of unknown outcome. */
export function failureOutcome(error: unknown): AuditOutcome {
  const code = error instanceof AppError ? error.code : 'internal_error';
  const refused = [
    'conflict',
    'twin_rule_violation',
    'forbidden',
    'bad_request',
    'validation_failed',
    'not_found',
    'throttled',
  ];
  return {
    // A write whose answer never came may have been applied: say so, not "failed".
    result: refused.includes(code)
      ? 'refused'
      : code === 'outcome_unknown' || code === 'device_timeout'
        ? 'unknown'
        : 'failed',
    error: {
      code,
      message: error instanceof AppError ? error.message : 'The write failed.',
    },
  };
}

/** Runs a write between its attempt and outcome records. */
export async function audited<T>(
  trail: AuditTrail,
  start: AuditStart,
  write: () => Promise<T>,
  after: (result: T) => AuditEntry['after'] = () => undefined,
  response: (result: T) => AuditEntry['response'] = () => undefined,
): Promise<T> {
  const record = await trail.begin(start);
  try {
    const result = await write();
    const versions = after(result);
    const answered = response(result);
    await record.end({
      result: 'succeeded',
      ...(versions ? { after: versions } : {}),
      ...(answered ? { response: answered } : {}),
    });
    return result;
  } catch (error) {
    await record.end(failureOutcome(error));
    throw error;
  }
}
