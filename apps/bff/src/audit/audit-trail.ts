import { auditFailed } from '../telemetry/instruments.ts';
import type { AuditEntry } from '@twinscope/contract';
import type { Database, Sql } from '../adapters/store/sql.ts';
import { AppError } from '../core/app-error.ts';
import type { Logger } from '../log.ts';
import { importAuditFile } from './import.ts';
import {
  attemptOf,
  COLUMNS,
  entryOf,
  INSERT,
  insertOf,
  strip,
  values,
  where,
  type AuditFilter,
  type AuditOutcome,
  type AuditStart,
  type Row,
} from './records.ts';

/** Outcomes kept to write again, at most (past this, reconciliation against the hub settles them). */
const MAX_UNWRITTEN = 10_000;
const UNWRITTEN_RETRY_MS = 3_000;

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
    auditFailed('record');
    this.logger.error('audit trail write failed; the change was refused', {
      message: (error as Error).message,
    });
    // The team's database is what failed, not the hub: the answer says so (503).
    return new AppError(
      'database_unavailable',
      "The audit trail cannot be written (the team's database is unavailable), so nothing was changed and the IoT hub was not asked. Try again once it is back, or ask an administrator to check the database.",
      { cause: error },
    );
  }

  private async writeOutcome(id: string, outcome: AuditOutcome, finishedAt: Date): Promise<void> {
    await this.db.query(
      `UPDATE audit_entries SET result = $2, after = $3, response = $4, error = $5,
         finished_at = $6 WHERE id = $1`,
      [
        id,
        outcome.result,
        outcome.after ?? null,
        outcome.response ?? null,
        outcome.error ?? null,
        finishedAt,
      ],
    );
  }

  private ending(id: string): (outcome: AuditOutcome) => Promise<void> {
    return async (outcome) => {
      const finishedAt = new Date();
      try {
        await this.writeOutcome(id, outcome, finishedAt);
      } catch (error) {
        // The attempt is committed and reads as `unknown` meanwhile; the outcome is known
        // here, so it is written once the database is back (a process that dies first
        // leaves it to reconciliation against the hub).
        auditFailed('outcome');
        this.logger.error('audit outcome write failed; kept to write again', {
          id,
          message: (error as Error).message,
        });
        this.keep(id, outcome, finishedAt);
      }
    };
  }

  /** Outcomes known but not yet written (the database was away), oldest first. */
  private readonly unwritten = new Map<string, { outcome: AuditOutcome; finishedAt: Date }>();
  private unwrittenTimer: NodeJS.Timeout | undefined;

  private keep(id: string, outcome: AuditOutcome, finishedAt: Date): void {
    if (this.unwritten.size >= MAX_UNWRITTEN) return;
    this.unwritten.set(id, { outcome, finishedAt });
    this.unwrittenTimer ??= setInterval(() => void this.writeUnwritten(), UNWRITTEN_RETRY_MS);
    this.unwrittenTimer.unref();
  }

  /** Writes the outcomes kept while the database was away; stops at the first that fails. */
  async writeUnwritten(): Promise<number> {
    let written = 0;
    for (const [id, { outcome, finishedAt }] of [...this.unwritten]) {
      try {
        await this.writeOutcome(id, outcome, finishedAt);
      } catch {
        return written;
      }
      this.unwritten.delete(id);
      written++;
    }
    if (this.unwritten.size === 0) {
      clearInterval(this.unwrittenTimer);
      this.unwrittenTimer = undefined;
    }
    if (written > 0)
      this.logger.info('audit outcomes written once the database was back', { written });
    return written;
  }

  /** Commits an attempt; refuses (503) when it cannot be committed, before any change. */
  async begin(
    start: AuditStart,
  ): Promise<{ end(outcome: AuditOutcome): Promise<void>; id: string }> {
    if (this.closed) throw this.refused(new Error('the audit trail is closed'));
    const entry = attemptOf(start);
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
    const entries = starts.map((start) => attemptOf(start));
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
      auditFailed('outcome', outcomes.length);
      this.logger.error('audit outcome write failed; kept to write again', {
        ids: outcomes.length,
        message: (error as Error).message,
      });
      // A rollout's own records (by target) are settled by its driver, which checks each
      // twin again; the others are written once the database is back.
      const finishedAt = new Date();
      for (const o of outcomes) if ('id' in o) this.keep(o.id, o.outcome, finishedAt);
    }
  }

  private async select(
    conditions: string[],
    params: unknown[],
    limit: number,
    order: 'ASC' | 'DESC' = 'DESC',
    sql: Sql = this.db,
  ): Promise<(AuditEntry & { seq: number })[]> {
    if (this.closed)
      throw new AppError(
        'database_unavailable',
        "The audit trail cannot be read: the team's database is closed (Twinscope is stopping).",
      );
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
  importFile(file: string): Promise<number | undefined> {
    return importAuditFile(this.db, file);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.unwrittenTimer);
    clearInterval(this.retentionTimer);
    await this.stopListening?.().catch(() => undefined);
    this.stopListening = undefined;
  }
}
