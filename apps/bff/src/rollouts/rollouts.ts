import { randomUUID } from 'node:crypto';
import type {
  Rollout,
  RolloutAction,
  RolloutRequest,
  RolloutStatus,
  RolloutTargetState,
  Twin,
} from '@twinscope/contract';
import { ROLLOUT_ACTIONS, waveSizes } from '@twinscope/contract';
import {
  holdsPatch,
  jsonOf,
  objectOf,
  stripReadOnly,
  validateSectionPatch,
  type JsonObject,
} from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Database } from '../adapters/store/sql.ts';
import { audited, failureOutcome, type Actor, type AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import { twinRuleError } from '../core/twin-rules.ts';
import type { Logger } from '../log.ts';
import { checkRawWhere } from '../services/device-query.ts';
import { holdsCondition } from './dry-run.ts';
import { applyChange, firstDifference, holdsChange, hubPatchOf, type Sections } from './plan.ts';
import {
  RolloutStore,
  refOf,
  rolloutOf,
  writeModeOf,
  type RolloutRow,
  type TargetRow,
} from './rollout-store.ts';
import { meeting, resolveTargets, rowsOf, targetKey, type TargetRef } from './targets.ts';
import { inLists, quote } from '../services/device-query.ts';

export interface RolloutOptions {
  /** This replica's name in leases. */
  replicaId?: string;
  leaseSeconds?: number;
  /** How often a replica looks for a rollout to drive. */
  pollMs?: number;
  /** How often a wave's success condition is checked. */
  checkMs?: number;
  /** Twin writes in flight at once (the budget paces them). */
  concurrency?: number;
  /** Rollouts one replica drives at once. */
  maxDriven?: number;
}

const CHANNEL = 'twinscope_rollouts';
/** The same write refused this often (its twin changes each time): the target fails. */
const MAX_ATTEMPTS = 5;
const BATCH = 200;
/** Chunks of writes in flight at once. */
const PIPELINES = 3;

/** A step that could not be made now (the hub throttles, is down, or the lease is gone). */
class Later extends Error {}
/** The rollout's status moved under the driver (paused, cancelled): it reads it again. */
class Halt extends Error {}

const sectionsOf = (twin: Twin): Sections => ({
  tags: twin.tags ?? {},
  desired: stripReadOnly(twin.properties.desired),
});

const versions = (twin: Twin) => {
  const desiredVersion = twin.properties.desired['$version'];
  return {
    etag: twin.etag,
    version: twin.version,
    ...(typeof desiredVersion === 'number' ? { desiredVersion } : {}),
  };
};

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : 'internal_error');
const messageOf = (error: unknown) =>
  error instanceof AppError ? error.message : 'The write failed.';

/** Errors that say "not now" rather than "never": the target is tried again. */
const TRANSIENT = new Set(['throttled', 'hub_unreachable', 'outcome_unknown', 'internal_error']);

/**
 * Guarded rollouts: a change written to a fleet's twins in waves (a canary, then growing
 * waves), each wave checked against a success condition before the next starts, stopped by
 * itself past a failure threshold, paused, resumed, cancelled or rolled back by people.
 * State lives in the database: any replica may drive a rollout, one at a time (a lease),
 * and one that stops is taken over where it left off. Every twin write goes through the
 * hub budget (paced, waiting on 429s) and the audit trail.
 */
export class Rollouts {
  private readonly store: RolloutStore;
  private readonly replicaId: string;
  private readonly leaseSeconds: number;
  private readonly pollMs: number;
  private readonly checkMs: number;
  private readonly concurrency: number;
  private readonly maxDriven: number;
  private readonly driving = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(id: string) => void>();
  private readonly lastNotice = new Map<string, number>();
  private readonly wakers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly hub: HubAdapter,
    private readonly audit: AuditTrail,
    private readonly logger: Logger,
    options: RolloutOptions = {},
  ) {
    this.store = new RolloutStore(db);
    this.replicaId = options.replicaId ?? randomUUID();
    this.leaseSeconds = options.leaseSeconds ?? 15;
    this.pollMs = options.pollMs ?? 1000;
    this.checkMs = options.checkMs ?? 2000;
    this.concurrency = options.concurrency ?? 48;
    this.maxDriven = options.maxDriven ?? 4;
  }

  // ---- what people do ---------------------------------------------------------------

  /**
   * Starts a rollout: checked first (twin rules, the success query), then stored as
   * `preparing`; a replica finds its targets, checks no other active rollout holds them and
   * runs it.
   */
  async create(request: RolloutRequest, actor: Actor): Promise<Rollout> {
    const { change, plan } = request;
    for (const section of ['tags', 'desired'] as const) {
      const patch = change[section] as JsonObject | undefined;
      if (!patch) continue;
      const violations = validateSectionPatch(section, patch);
      if (violations.length > 0) throw twinRuleError(violations);
    }
    if (plan.success.kind === 'query') checkRawWhere(plan.success.where);
    if (plan.success.kind === 'mirrors' && !change.desired)
      throw new AppError(
        'validation_failed',
        'Reported properties can only mirror a desired change, and this change sets no desired property. Choose "written" or a query.',
      );
    // The where clause is checked now, not when the targets are found.
    if (request.filter.where?.trim())
      checkRawWhere(request.filter.where.trim().replace(/^where\s+/i, ''));
    const id = randomUUID();
    const spec = {
      filter: request.filter,
      ...(request.moduleId ? { moduleId: request.moduleId } : {}),
      change,
      plan,
    };
    await audited(
      this.audit,
      {
        actor,
        action: 'rollout.create',
        target: { deviceId: '', rolloutId: id },
        change: objectOf(jsonOf({ name: request.name, ...spec })),
      },
      () => this.store.create(id, request.name, spec, actor),
    );
    this.changed(id, true);
    return this.get(id);
  }

  async get(id: string): Promise<Rollout> {
    const row = await this.store.get(id);
    if (!row) throw new AppError('not_found', 'There is no such rollout.');
    return rolloutOf(row, await this.store.counts(id), await this.store.jobs(id));
  }

  async list(limit = 50): Promise<Rollout[]> {
    const rows = await this.store.list(limit);
    return Promise.all(
      rows.map(async (row) =>
        rolloutOf(row, await this.store.counts(row.id), await this.store.jobs(row.id)),
      ),
    );
  }

  targets(
    id: string,
    filter: { state?: RolloutTargetState; wave?: number; after?: string; limit: number },
  ) {
    return this.store.targets(id, filter);
  }

  /** A person's action (approve, pause, resume, cancel, rollback), audited. */
  async act(id: string, action: RolloutAction, actor: Actor): Promise<Rollout> {
    const rule = ROLLOUT_ACTIONS[action];
    const row = await this.store.get(id);
    if (!row) throw new AppError('not_found', 'There is no such rollout.');
    if (action === 'rollback' && row.spec.change.method)
      throw new AppError(
        'conflict',
        'A direct method call cannot be undone, so this rollout has no rollback; cancel it to call no more targets.',
      );
    const message: Record<RolloutAction, string | null> = {
      approve: `Approved by ${actor.name}; the next waves run.`,
      pause: `Paused by ${actor.name}. Writes in flight finish; nothing more is written until it resumes.`,
      resume: null,
      cancel: `Cancelled by ${actor.name}. Twins already written keep the change; roll back to undo it.`,
      rollback: `Rolling back for ${actor.name}: each written twin gets its old values back.`,
    };
    const moved = await audited(
      this.audit,
      {
        actor,
        action: `rollout.${action}`,
        target: { deviceId: '', rolloutId: id },
        change: { from: row.status },
      },
      async () => {
        const next = await this.store.transition(id, rule.from, rule.to, {
          message: message[action],
          ...(action === 'approve'
            ? { approvedBy: actor, wave: row.wave + 1, waveWrittenAt: null }
            : {}),
          ...(action === 'rollback' ? { rollbackBy: actor } : {}),
          // The wave's time limit starts again: time paused is not held against its twins.
          ...(action === 'resume' ? { waveWrittenAt: null } : {}),
        });
        if (!next)
          throw new AppError(
            'conflict',
            `The rollout is ${row.status.replace('_', ' ')} now, so it cannot be ${action === 'approve' ? 'approved' : `${action}${action.endsWith('e') ? 'd' : 'ed'}`}.`,
          );
        return next;
      },
    );
    this.changed(moved.id, true);
    return this.get(id);
  }

  /** Hears that a rollout changed (any replica's), at most a few times a second each. */
  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- driving ----------------------------------------------------------------------

  async start(): Promise<void> {
    this.stopped = false;
    this.unlisten = await this.db.listen(CHANNEL, (id) => {
      for (const listener of this.listeners) listener(id);
      this.wake();
    });
    const tick = () => {
      if (this.stopped) return;
      void this.claim().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
      });
    };
    tick();
  }

  /** Stops driving: leases are given back so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake();
    await Promise.allSettled([...this.driving.values()]);
    await this.unlisten?.();
  }

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /** Waits `ms`, or less when a rollout changes (someone paused it) or the BFF stops. */
  private rest(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  /** Tells every replica (and so every tab) that a rollout changed; throttled unless `now`. */
  private changed(id: string, now = false): void {
    const last = this.lastNotice.get(id) ?? 0;
    if (!now && Date.now() - last < 250) return;
    this.lastNotice.set(id, Date.now());
    this.db
      .query('SELECT pg_notify($1, $2)', [CHANNEL, id])
      .catch((error: unknown) =>
        this.logger.warn('rollout notice failed', { message: (error as Error).message }),
      );
  }

  private async claim(): Promise<void> {
    try {
      while (this.driving.size < this.maxDriven && !this.stopped) {
        const id = await this.store.claim(this.replicaId, this.leaseSeconds, [
          ...this.driving.keys(),
        ]);
        if (!id) return;
        const run = this.drive(id)
          .catch((error: unknown) =>
            // The database went away mid-step: the lease runs out and a replica takes it up.
            this.logger.warn('rollout driving stopped', { id, message: (error as Error).message }),
          )
          .finally(() => this.driving.delete(id));
        this.driving.set(id, run);
      }
    } catch (error) {
      this.logger.warn('rollouts could not be claimed', { message: (error as Error).message });
    }
  }

  private async drive(id: string): Promise<void> {
    const lease = { held: true };
    const renew = setInterval(
      () => {
        this.store.renew(id, this.replicaId, this.leaseSeconds).then(
          (held) => {
            if (!held) lease.held = false;
          },
          (error: unknown) => {
            // The database is away: the lease runs out by itself; stop writing before it does.
            lease.held = false;
            this.logger.warn('rollout lease could not be renewed', {
              id,
              message: (error as Error).message,
            });
          },
        );
      },
      (this.leaseSeconds * 1000) / 3,
    );
    let backoff = 0;
    try {
      while (lease.held && !this.stopped) {
        const row = await this.store.get(id);
        if (!row || row.lease_owner !== this.replicaId) return;
        try {
          if (row.status === 'preparing') await this.prepare(row);
          else if (row.status === 'running') await this.runWave(row, lease);
          else if (row.status === 'rolling_back') await this.rollBack(row, lease);
          else return;
          if (backoff > 0) await this.store.note(id, this.replicaId, null);
          backoff = 0;
        } catch (error) {
          if (error instanceof Halt) continue;
          if (!(error instanceof Later)) {
            this.logger.error('rollout step failed', { id, message: (error as Error).message });
          }
          backoff = Math.min(30_000, Math.max(1000, backoff * 2));
          await this.store
            .note(
              id,
              this.replicaId,
              `${error instanceof Later || error instanceof AppError ? error.message : 'An unexpected error stopped this step.'} Trying again in ${Math.round(backoff / 1000)} s.`,
            )
            .catch(() => undefined);
          this.changed(id, true);
          await this.rest(backoff);
        }
      }
    } finally {
      clearInterval(renew);
      await this.store.release(id, this.replicaId).catch(() => undefined);
    }
  }

  /** Finds the targets, plans the waves and starts (or explains why not). */
  private async prepare(row: RolloutRow): Promise<void> {
    let targets: TargetRef[];
    try {
      targets = await resolveTargets(this.hub, row.spec.filter, row.spec.moduleId);
    } catch (error) {
      if (error instanceof AppError && TRANSIENT.has(error.code))
        throw new Later(`Finding the targets: ${error.message}`);
      await this.store.transition(row.id, ['preparing'], 'stopped', {
        owner: this.replicaId,
        message: `The targets could not be found: ${messageOf(error)} Nothing was written.`,
      });
      this.changed(row.id, true);
      return;
    }
    if (targets.length === 0) {
      await this.store.transition(row.id, ['preparing'], 'stopped', {
        owner: this.replicaId,
        message: `The filter matched no ${row.spec.moduleId ? `"${row.spec.moduleId}" modules` : 'devices'} when the rollout began. Nothing was written.`,
      });
      this.changed(row.id, true);
      return;
    }
    const sizes = waveSizes(targets.length, row.spec.plan);
    const begun = await this.store.begin(row.id, this.replicaId, targets, sizes);
    if (!begun.started && begun.clash.rollout) {
      const { clash } = begun;
      await this.store.transition(row.id, ['preparing'], 'stopped', {
        owner: this.replicaId,
        message: `Refused: ${clash.count} of its targets belong to the active rollout "${clash.name}" (${clash.twins.join(', ')}${clash.count > clash.twins.length ? ', …' : ''}). A twin is in one active rollout at a time; wait for it to end, or cancel it. Nothing was written.`,
      });
    }
    this.changed(row.id, true);
  }

  /** Runs a pool of workers (`concurrency` unless told) over some items. */
  private async pool<T>(
    items: T[],
    work: (item: T) => Promise<void>,
    workers = this.concurrency,
  ): Promise<void> {
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (next < items.length && failure === undefined) {
        const item = items[next++]!;
        try {
          await work(item);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
    if (failure !== undefined) throw failure;
  }

  /** One step of the current wave: a batch of writes, or a round of checks, or its verdict. */
  private async runWave(row: RolloutRow, lease: { held: boolean }): Promise<void> {
    const { id, wave } = row;
    const batch = await this.store.next(id, wave, ['writing', 'pending'], BATCH);
    if (batch.length > 0 && row.spec.change.method) {
      await this.callBatch(row, batch);
      this.changed(id, true);
      return;
    }
    if (batch.length > 0) {
      const started = Date.now();
      const wrote = { n: 0 };
      // `concurrency` writes in flight in all, in a few chunks side by side.
      const size = Math.max(1, Math.ceil(this.concurrency / PIPELINES));
      const chunks: TargetRow[][] = [];
      for (let at = 0; at < batch.length; at += size) chunks.push(batch.slice(at, at + size));
      // A few chunks at once: one's database steps overlap another's hub calls, so the
      // writes keep to the budget's pace.
      await this.pool(
        chunks,
        async (chunk) => {
          if (!lease.held) throw new Later('This replica no longer drives the rollout.');
          wrote.n += await this.writeChunk(row, chunk);
          this.changed(id);
        },
        PIPELINES,
      );
      const seconds = (Date.now() - started) / 1000;
      if (wrote.n >= 20 && seconds > 0)
        await this.store.transition(id, ['running'], 'running', {
          owner: this.replicaId,
          writesPerSecond: Math.round((wrote.n / seconds) * 10) / 10,
        });
      this.changed(id, true);
      return;
    }
    if (!row.wave_written_at) {
      await this.store.transition(id, ['running'], 'running', {
        owner: this.replicaId,
        waveWrittenAt: 'now',
        message: `Wave ${wave + 1} is written; checking the success condition.`,
      });
      this.changed(id, true);
      return;
    }
    if (!(await this.check(row))) {
      await this.rest(this.checkMs);
      return;
    }
    await this.verdict(row);
  }

  /**
   * Writes the change to some targets, each with its own etag, recording first what undoes
   * each write. A write whose outcome was not known (a restart, a timeout) is checked before
   * anything else, so no twin is written twice. The database work is one statement per step
   * for the whole chunk; the hub calls run side by side, paced by the budget. Answers how
   * many writes were sent.
   */
  private async writeChunk(row: RolloutRow, chunk: TargetRow[]): Promise<number> {
    const { id, spec } = row;
    const { change } = spec;
    const owner = this.replicaId;
    const from = ['pending', 'writing'] as const;
    // 1. Each twin as it is now.
    const read = await Promise.all(
      chunk.map(async (target) => {
        try {
          return {
            target,
            twin: await this.hub.getTwin(target.device_id, target.module_id || undefined),
          };
        } catch (error) {
          return { target, error };
        }
      }),
    );
    const skipped: TargetRow[] = [];
    const verdicts: { state: RolloutTargetState; target: TargetRow; error: string | null }[] = [];
    const toWrite: { target: TargetRow; twin: Twin; inverse: Partial<Sections> }[] = [];
    let transient: unknown;
    for (const item of read) {
      const { target } = item;
      if (!('twin' in item) || !item.twin) {
        if (codeOf(item.error) === 'not_found') skipped.push(target);
        else if (TRANSIENT.has(codeOf(item.error))) transient ??= item.error;
        else throw item.error;
        continue;
      }
      const sections = sectionsOf(item.twin);
      if (holdsChange(sections, change)) {
        // Written before the outcome was known, or already so: either way nothing to send.
        verdicts.push({
          state: target.state === 'writing' ? 'written' : 'unchanged',
          target,
          error: null,
        });
        continue;
      }
      const { after, inverse } = applyChange(sections, change);
      const violations = (['tags', 'desired'] as const).flatMap((section) =>
        after[section] ? validateSectionPatch(section, {}, after[section]) : [],
      );
      if (violations.length > 0)
        verdicts.push({
          state: 'failed',
          target,
          error: `The change would break IoT Hub's twin rules on this twin: ${violations[0]!.path}: ${violations[0]!.message}`,
        });
      else if (target.attempts >= MAX_ATTEMPTS)
        verdicts.push({
          state: 'failed',
          target,
          error: `The twin changed under every one of ${MAX_ATTEMPTS} attempts to write it.`,
        });
      else toWrite.push({ target, twin: item.twin, inverse });
    }
    await this.store.markMany(
      id,
      owner,
      skipped.map((target) => ({
        target: refOf(target),
        error: `The ${target.module_id ? 'module' : 'device'} no longer exists; nothing was written to it.`,
      })),
      from,
      'skipped',
    );
    for (const state of ['written', 'unchanged', 'failed'] as const) {
      const these = verdicts.filter((v) => v.state === state);
      await this.store.markMany(
        id,
        owner,
        these.map((v) => ({ target: refOf(v.target), error: v.error })),
        from,
        state,
      );
    }
    // 2. What undoes each write, stored before it is sent; only while this replica drives a
    // running rollout (a pause stops new writes here).
    const claimed = await this.store.markMany(
      id,
      owner,
      toWrite.map(({ target, inverse }) => ({ target: refOf(target), inverse })),
      from,
      'writing',
      { attempt: true, whileStatus: 'running' },
    );
    const sending = toWrite.filter(({ target }) => claimed.has(targetKey(refOf(target))));
    const actor = { id: row.created_by_id, name: row.created_by_name };
    const records = await this.audit.beginMany(
      sending.map(({ target, twin, inverse }) => ({
        actor,
        action: 'rollout.write' as const,
        target: { ...refOf(target), rolloutId: id },
        change: change,
        before: versions(twin),
        revert: inverse,
      })),
    );
    const hubPatch = hubPatchOf({
      ...(change.tags ? { tags: change.tags } : {}),
      ...(change.desired ? { desired: change.desired } : {}),
    });
    // 3. The writes, side by side.
    const outcomes = await Promise.all(
      sending.map(async ({ target, twin }) => {
        try {
          const after = await this.hub.patchTwin(
            target.device_id,
            target.module_id || undefined,
            hubPatch,
            twin.etag,
          );
          return { target, after };
        } catch (error) {
          return { target, error };
        }
      }),
    );
    await this.audit.endMany(
      outcomes.map((outcome, i) => ({
        id: records[i]!.id,
        outcome:
          'after' in outcome && outcome.after
            ? { result: 'succeeded' as const, after: versions(outcome.after) }
            : failureOutcome(outcome.error),
      })),
    );
    // 4. Where each stands now.
    const next = new Map<
      RolloutTargetState,
      { target: TargetRef; error?: string | null; inverse?: null }[]
    >();
    const move = (
      state: RolloutTargetState,
      item: { target: TargetRef; error?: string | null; inverse?: null },
    ) => next.set(state, [...(next.get(state) ?? []), item]);
    let sent = 0;
    for (const outcome of outcomes) {
      const ref = refOf(outcome.target);
      if ('after' in outcome && outcome.after) {
        sent++;
        move('written', { target: ref, error: null });
        continue;
      }
      const code = codeOf(outcome.error);
      // Changed between our read and our write: read again and try again (attempts counted).
      if (code === 'conflict') move('pending', { target: ref });
      // Sent, answer unknown: stays `writing`, and is checked before anything else is done.
      else if (code === 'outcome_unknown') transient ??= outcome.error;
      // Never sent (the budget, a 429 past its retries, the hub away): tried again later.
      else if (TRANSIENT.has(code)) {
        move('pending', { target: ref });
        transient ??= outcome.error;
      } else
        // The hub refused it: nothing was written, so nothing is to be undone.
        move(code === 'not_found' ? 'skipped' : 'failed', {
          target: ref,
          inverse: null,
          error:
            code === 'not_found'
              ? 'Deleted before the write reached it; nothing was written.'
              : messageOf(outcome.error),
        });
    }
    for (const [state, items] of next)
      await this.store.markMany(id, owner, items, ['writing'], state);
    if (transient !== undefined) throw new Later(messageOf(transient));
    if (claimed.size < toWrite.length) throw new Halt();
    return sent;
  }

  /**
   * One step of a direct method rollout. On devices, one IoT Hub job calls a chunk of the
   * wave (an IN list of their ids; the same call for every device, no etag): its id is
   * stored before it is scheduled, so a restart follows it (or schedules it, when it never
   * reached the hub) rather than calling anyone twice; its outcome per device is read from
   * `devices.jobs`. On modules, which jobs do not reach, one call per module, side by side.
   */
  private async callBatch(row: RolloutRow, batch: TargetRow[]): Promise<void> {
    const { id, wave, spec } = row;
    const method = spec.change.method!;
    const owner = this.replicaId;
    const actor = { id: row.created_by_id, name: row.created_by_name };
    const attempts = (targets: TargetRow[]) =>
      this.audit.beginMany(
        targets.map((target) => ({
          actor,
          action: 'rollout.write' as const,
          target: { ...refOf(target), rolloutId: id },
          change: objectOf(jsonOf({ method })),
        })),
      );
    if (writeModeOf(spec) === 'per-call') {
      // A call whose outcome was never recorded is not made again: it is said so.
      const unknown = batch.filter((target) => target.state === 'writing');
      await this.store.markMany(
        id,
        owner,
        unknown.map((target) => ({
          target: refOf(target),
          error:
            'The BFF stopped during this call, so whether it ran is unknown; it is not called again.',
        })),
        ['writing'],
        'failed',
      );
      const pending = batch
        .filter((target) => target.state === 'pending')
        .slice(0, this.concurrency);
      const claimed = await this.store.markMany(
        id,
        owner,
        pending.map((target) => ({ target: refOf(target) })),
        ['pending'],
        'writing',
        { attempt: true, whileStatus: 'running' },
      );
      const calling = pending.filter((target) => claimed.has(targetKey(refOf(target))));
      await attempts(calling);
      const outcomes = await Promise.all(
        calling.map(async (target) => {
          try {
            return { target, answer: await this.hub.invokeMethod(refOf(target), method) };
          } catch (error) {
            return { target, error };
          }
        }),
      );
      await this.settleCalls(
        row,
        outcomes.map((outcome) =>
          'answer' in outcome && outcome.answer
            ? {
                target: outcome.target,
                status: outcome.answer.status,
                payload: outcome.answer.payload,
              }
            : { target: outcome.target, error: messageOf(outcome.error) },
        ),
      );
      if (claimed.size < pending.length) throw new Halt();
      return;
    }
    // Devices: follow the job in flight, or start one for the next chunk of the wave.
    const inFlight = batch.find((target) => target.state === 'writing' && target.job_id);
    if (inFlight) {
      await this.followJob(row, inFlight.job_id!);
      return;
    }
    const pending = batch.filter((target) => target.state === 'pending');
    // As many as one IN list holds under the hub's query length.
    const chunk: TargetRow[] = [];
    let room = 7000;
    for (const target of pending) {
      const length = quote(target.device_id).length + 1;
      if (chunk.length > 0 && length > room) break;
      chunk.push(target);
      room -= length;
    }
    if (chunk.length === 0) return;
    const jobId = `rollout-${id.slice(0, 8)}-w${wave + 1}-${randomUUID().slice(0, 8)}`;
    const claimed = await this.store.markMany(
      id,
      owner,
      chunk.map((target) => ({ target: refOf(target) })),
      ['pending'],
      'writing',
      { attempt: true, whileStatus: 'running', jobId },
    );
    if (claimed.size === 0) throw new Halt();
    await attempts(chunk.filter((target) => claimed.has(targetKey(refOf(target)))));
    await this.store.transition(id, ['running'], 'running', {
      owner,
      message: `Wave ${wave + 1}: IoT Hub job ${jobId} calls ${method.methodName} on ${claimed.size} devices.`,
    });
    await this.followJob(row, jobId);
  }

  /** Schedules a wave's job if the hub does not have it yet, and reads its outcomes once done. */
  private async followJob(row: RolloutRow, jobId: string): Promise<void> {
    const { id } = row;
    const method = row.spec.change.method!;
    const targets = await this.store.withJob(id, jobId);
    let job: { status: string; failureReason?: string };
    try {
      job = await this.hub.getJob(jobId);
    } catch (error) {
      if (codeOf(error) !== 'not_found') {
        if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
        throw error;
      }
      // Never reached the hub (the BFF stopped first): scheduled now, under the same id.
      const [list] = inLists(
        targets.map((target) => target.device_id),
        7500,
      );
      try {
        await this.hub.scheduleMethodJob(
          jobId,
          `deviceId IN ${list}`,
          method,
          Math.max(60, (method.responseTimeoutInSeconds + method.connectTimeoutInSeconds) * 4),
        );
      } catch (refused) {
        if (TRANSIENT.has(codeOf(refused))) throw new Later(messageOf(refused));
        // The hub refused the job: nobody was called.
        await this.settleCalls(
          row,
          targets.map((target) => ({
            target,
            error: `The hub refused the job: ${messageOf(refused)}`,
          })),
        );
        return;
      }
      this.changed(id, true);
      await this.rest(this.checkMs);
      return;
    }
    if (!['completed', 'failed', 'cancelled'].includes(job.status)) {
      await this.rest(this.checkMs);
      return;
    }
    const outcomes = new Map<string, { status?: number; payload?: unknown; error?: string }>();
    try {
      for await (const device of rowsOf(
        this.hub,
        `SELECT * FROM devices.jobs WHERE devices.jobs.jobId = ${quote(jobId)}`,
      )) {
        const response = (
          device['outcome'] as
            { deviceMethodResponse?: { status: number; payload: unknown } } | undefined
        )?.deviceMethodResponse;
        const failure = device['error'] as { code?: string; description?: string } | undefined;
        outcomes.set(
          String(device['deviceId']),
          response
            ? { status: response.status, payload: response.payload }
            : {
                error:
                  failure?.description ??
                  `The job ended ${String(device['status'])} for this device.`,
              },
        );
      }
    } catch (error) {
      if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
      throw error;
    }
    await this.settleCalls(
      row,
      targets.map((target) => ({
        target,
        ...(outcomes.get(target.device_id) ?? {
          error: `The job ended ${job.status}${job.failureReason ? ` (${job.failureReason})` : ''} before calling this device.`,
        }),
      })),
    );
  }

  /** Records each call's outcome: 2xx is written (then judged by the condition), else failed. */
  private async settleCalls(
    row: RolloutRow,
    results: { target: TargetRow; status?: number; payload?: unknown; error?: string }[],
  ): Promise<void> {
    const ok = (r: (typeof results)[number]) =>
      r.status !== undefined && r.status >= 200 && r.status < 300;
    const why = (r: (typeof results)[number]) =>
      r.error ??
      `The method answered ${r.status}${r.payload === undefined || r.payload === null ? '' : `: ${JSON.stringify(r.payload).slice(0, 200)}`}.`;
    await this.audit.endMany(
      results.map((r) => ({
        rolloutId: row.id,
        ...refOf(r.target),
        // The call was made once the device answered, whatever its status (as for one person's call).
        outcome:
          r.status !== undefined
            ? {
                result: 'succeeded',
                response: { status: r.status, payload: (r.payload ?? null) as never },
              }
            : { result: 'failed', error: { code: 'hub_error', message: why(r) } },
      })),
    );
    await this.store.markMany(
      row.id,
      this.replicaId,
      results.filter(ok).map((r) => ({ target: refOf(r.target), error: null })),
      ['writing'],
      'written',
    );
    await this.store.markMany(
      row.id,
      this.replicaId,
      results.filter((r) => !ok(r)).map((r) => ({ target: refOf(r.target), error: why(r) })),
      ['writing'],
      'failed',
    );
  }

  /**
   * Checks the written targets of the wave against the success condition; answers whether
   * every one has a verdict (met, or out of time).
   */
  private async check(row: RolloutRow): Promise<boolean> {
    const { id, wave, spec } = row;
    const success = spec.plan.success;
    if (success.kind === 'written') {
      await this.store.markAll(id, this.replicaId, wave, 'written', 'succeeded', null);
      return true;
    }
    const condition =
      success.kind === 'query'
        ? success.where.trim().replace(/^where\s+/i, '')
        : holdsCondition(
            { desired: spec.change.desired! },
            { tags: 'tags', desired: 'properties.reported' },
          );
    let after: TargetRef | undefined;
    for (;;) {
      const written = await this.store.next(id, wave, ['written'], 1000, after);
      if (written.length === 0) break;
      const refs = written.map(refOf);
      let met: Set<string>;
      if (typeof condition === 'string' || 'where' in condition) {
        const where = typeof condition === 'string' ? condition : condition.where;
        try {
          met = await meeting(this.hub, refs, where);
        } catch (error) {
          if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
          await this.store.transition(id, ['running'], 'stopped', {
            owner: this.replicaId,
            message: `The success condition could not be checked: ${messageOf(error)} Nothing more is written.`,
          });
          this.changed(id, true);
          return false;
        }
      } else {
        // A change the query language cannot compare: each twin is read instead.
        met = new Set();
        await this.pool(refs, async (ref) => {
          const twin = await this.hub.getTwin(ref.deviceId, ref.moduleId).catch(() => undefined);
          if (
            twin &&
            holdsPatch(stripReadOnly(twin.properties.reported), spec.change.desired ?? {})
          )
            met.add(targetKey(ref));
        });
      }
      for (const ref of refs)
        if (met.has(targetKey(ref)))
          await this.store.mark(id, this.replicaId, ref, ['written'], 'succeeded', { error: null });
      this.changed(id);
      if (written.length < 1000) break;
      after = refs.at(-1);
    }
    const timeout = success.timeoutSeconds * 1000;
    if (Date.now() - row.wave_written_at!.getTime() < timeout) {
      return (await this.store.next(id, wave, ['written'], 1)).length === 0;
    }
    await this.store.markAll(
      id,
      this.replicaId,
      wave,
      'written',
      'failed',
      success.kind === 'mirrors'
        ? `Its reported properties did not mirror the change within ${success.timeoutSeconds} s.`
        : `It did not meet "${success.where}" within ${success.timeoutSeconds} s.`,
    );
    return true;
  }

  /** The wave's verdict: stop past the threshold, wait for approval, or go on. */
  private async verdict(row: RolloutRow): Promise<void> {
    const { id, wave, spec } = row;
    const counts = (await this.store.counts(id)).filter((c) => c.wave === wave);
    const n = (state: RolloutTargetState) => counts.find((c) => c.state === state)?.n ?? 0;
    const failed = n('failed');
    const judged = failed + n('succeeded');
    const share = judged === 0 ? 0 : (failed / judged) * 100;
    const name = wave === 0 ? 'The canary' : `Wave ${wave + 1}`;
    const stops = failed > 0 && share > spec.plan.failureThreshold;
    let step: { to: RolloutStatus; message: string; next?: true };
    if (stops)
      step = {
        to: 'stopped',
        message: `${name} failed on ${failed} of ${judged} twins (${Math.round(share * 10) / 10} %), above the ${spec.plan.failureThreshold} % threshold. The rollout stopped by itself; nothing more is written. Roll back to undo what was written.`,
      };
    else if (wave + 1 >= row.waves.length) {
      const total = await this.store.counts(id);
      const sum = (state: RolloutTargetState) =>
        total.filter((c) => c.state === state).reduce((a, c) => a + c.n, 0);
      step = {
        to: 'completed',
        message: `Completed: ${sum('succeeded')} twins changed, ${sum('unchanged')} already held the change, ${sum('failed')} failed, ${sum('skipped')} skipped.`,
      };
    } else if (wave === 0 && spec.plan.approval)
      step = {
        to: 'awaiting_approval',
        message: `The canary passed (${n('succeeded')} succeeded, ${failed} failed). An Admin approves the next waves.`,
      };
    else
      step = {
        to: 'running',
        next: true,
        message: `${name} passed; wave ${wave + 2} of ${row.waves.length} is being written.`,
      };
    const moved = await this.store.transition(id, ['running'], step.to, {
      owner: this.replicaId,
      message: step.message,
      ...(step.next ? { wave: wave + 1, waveWrittenAt: null } : {}),
    });
    this.changed(id, true);
    if (!moved) return;
    // Each wave's verdict is in the audit trail, on the rollout, as its starter's.
    const record = await this.audit.begin({
      actor: { id: row.created_by_id, name: row.created_by_name },
      action: 'rollout.wave',
      target: { deviceId: '', rolloutId: id },
      change: {
        wave: wave + 1,
        of: row.waves.length,
        succeeded: n('succeeded'),
        failed,
        unchanged: n('unchanged'),
        skipped: n('skipped'),
      },
    });
    await record.end(
      stops
        ? { result: 'failed', error: { code: 'failure_threshold', message: step.message } }
        : { result: 'succeeded' },
    );
  }

  /**
   * One batch of the rollback: each written twin gets its inverse patch with a fresh etag,
   * unless someone changed what the rollout wrote since (then it is left, and listed).
   */
  private async rollBack(row: RolloutRow, lease: { held: boolean }): Promise<void> {
    const { id } = row;
    // Every target something was written to (or may have been): it has what undoes it.
    const undoable = await this.store.next(
      id,
      undefined,
      ['writing', 'written', 'succeeded', 'failed'],
      BATCH,
      undefined,
      true,
    );
    if (undoable.length === 0) {
      const counts = await this.store.counts(id);
      const sum = (state: RolloutTargetState) =>
        counts.filter((c) => c.state === state).reduce((a, c) => a + c.n, 0);
      const kept = sum('revert_skipped');
      await this.store.transition(id, ['rolling_back'], 'rolled_back', {
        owner: this.replicaId,
        message: `Rolled back: ${sum('reverted')} twins have their old values again${kept > 0 ? `; ${kept} changed by someone else since were left as they are (listed below)` : ''}.`,
      });
      this.changed(id, true);
      return;
    }
    const actor = row.rollback_by ?? { id: row.created_by_id, name: row.created_by_name };
    await this.pool(undoable, async (target) => {
      if (!lease.held) throw new Later('This replica no longer drives the rollout.');
      await this.revert(row, target, { id: actor.id, name: actor.name });
      this.changed(id);
    });
    this.changed(id, true);
  }

  private async revert(row: RolloutRow, target: TargetRow, actor: Actor): Promise<void> {
    const ref = refOf(target);
    const from = [target.state];
    let twin: Twin;
    try {
      twin = await this.hub.getTwin(ref.deviceId, ref.moduleId);
    } catch (error) {
      if (codeOf(error) === 'not_found') {
        await this.store.mark(row.id, this.replicaId, ref, from, 'revert_skipped', {
          error: `The ${ref.moduleId ? 'module' : 'device'} no longer exists.`,
        });
        return;
      }
      if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
      throw error;
    }
    const sections = sectionsOf(twin);
    const { change } = row.spec;
    if (!holdsChange(sections, change)) {
      if (target.state === 'writing') {
        // The write never landed: there is nothing to undo.
        await this.store.mark(row.id, this.replicaId, ref, from, 'pending', {
          inverse: null,
          error: null,
        });
        return;
      }
      const difference =
        (change.tags && firstDifference(sections.tags, change.tags, 'tags')) ||
        (change.desired && firstDifference(sections.desired, change.desired, 'properties.desired'));
      await this.store.mark(row.id, this.replicaId, ref, from, 'revert_skipped', {
        error: `Changed by someone else since the rollout wrote it (${difference || 'it differs'}); left as it is.`,
      });
      return;
    }
    const inverse = target.inverse!;
    if (
      !(await this.store.mark(row.id, this.replicaId, ref, from, target.state, {
        whileStatus: 'rolling_back',
      }))
    )
      throw new Halt();
    try {
      await audited(
        this.audit,
        {
          actor,
          action: 'rollout.revert',
          target: { ...ref, rolloutId: row.id },
          change: inverse,
          before: versions(twin),
          revert: change,
        },
        () => this.hub.patchTwin(ref.deviceId, ref.moduleId, hubPatchOf(inverse), twin.etag),
        versions,
      );
    } catch (error) {
      const code = codeOf(error);
      // Changed between our read and our write: the next batch reads it again.
      if (code === 'conflict') return;
      if (TRANSIENT.has(code)) throw new Later(messageOf(error));
      await this.store.mark(row.id, this.replicaId, ref, from, 'revert_skipped', {
        error: `The hub refused the rollback write: ${messageOf(error)}`,
      });
      return;
    }
    await this.store.mark(row.id, this.replicaId, ref, from, 'reverted', { error: null });
  }
}
