import { randomUUID } from 'node:crypto';
import {
  ROLLOUT_ACTIONS,
  type Rollout,
  type RolloutAction,
  type RolloutRequest,
  type RolloutTargetState,
  type DryRunRequest,
  type RolloutList,
  type RolloutListQuery,
  type DryRunResponse,
} from '@twinscope/contract';
import { jsonOf, objectOf, validateSectionPatch } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Database } from '../adapters/store/sql.ts';
import type { CallContext } from '../core/call-context.ts';
import type { HubBudget } from '../quota/hub-budget.ts';
import { dryRun } from './dry-run.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import { twinRuleError } from '../core/twin-rules.ts';
import { checkRawWhere } from '../core/hub-query.ts';
import type { RolloutNotices } from './notices.ts';
import { RolloutStore } from './rollout-store.ts';
import { rolloutOf } from './rollout-rows.ts';

/**
 * Guarded rollouts as people use them: a change written to a fleet's twins in waves (a
 * canary, then growing waves), each wave checked against a success condition before the
 * next starts, stopped by itself past a failure threshold, paused, resumed, cancelled or
 * rolled back by people. This starts, reads and steers them; state lives in the database,
 * and a replica's RolloutDriver does the writing.
 */
/** How many rollouts may be active at once: per person, and on the hub. */
export interface RolloutLimits {
  activePerPerson: number;
  activePerHub: number;
}

export class RolloutService {
  private readonly store: RolloutStore;

  constructor(
    db: Database,
    private readonly audit: AuditTrail,
    private readonly notices: RolloutNotices,
    private readonly hub: HubAdapter,
    private readonly budget: HubBudget,
    private readonly limits: RolloutLimits = { activePerPerson: 5, activePerHub: 20 },
  ) {
    this.store = new RolloutStore(db);
  }

  /**
   * Refuses a start past the limits: a person's rollouts and the hub's run side by side and
   * share one twin-write budget, so many at once only make each slower.
   */
  private withinLimits(active: { all: number; theirs: number }): void {
    const { activePerPerson, activePerHub } = this.limits;
    if (active.theirs >= activePerPerson)
      throw new AppError(
        'throttled',
        `You have ${active.theirs} active rollouts, the most one person may have at once. Wait for one to end, or cancel one, then start this again. Nothing was started.`,
      );
    if (active.all >= activePerHub)
      throw new AppError(
        'throttled',
        `This hub has ${active.all} active rollouts, the most Twinscope runs at once. Wait for one to end, or ask whoever started one to cancel it. Nothing was started.`,
      );
  }

  /** What a rollout would do, read from the hub without changing anything. */
  preview(request: DryRunRequest, context: CallContext): Promise<DryRunResponse> {
    return dryRun(this.hub, this.budget, request, context);
  }

  /**
   * Starts a rollout: checked first (twin rules, the success query), then stored as
   * `preparing`; a replica finds its targets, checks no other active rollout holds them and
   * runs it.
   */
  async create(request: RolloutRequest, actor: Actor): Promise<Rollout> {
    const { change, plan } = request;
    for (const section of ['tags', 'desired'] as const) {
      const patch = change[section];
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
    // Counted first, so a refusal costs the trail nothing; counted again as it is stored.
    this.withinLimits(await this.store.active(actor.id));
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
      () => this.store.create(id, request.name, spec, actor, (active) => this.withinLimits(active)),
    );
    this.notices.changed(id, true);
    return this.get(id);
  }

  async get(id: string): Promise<Rollout> {
    const row = await this.store.get(id);
    if (!row) throw new AppError('not_found', 'There is no such rollout.');
    return rolloutOf(row, await this.store.counts(id), await this.store.jobs(id));
  }

  /** Newest first, a page at a time (\`next\` is the \`before\` of the page after). */
  async list(query: RolloutListQuery): Promise<RolloutList> {
    const [at, id] = query.before?.split('.') ?? [];
    const rows = await this.store.list(
      query.limit + 1,
      at !== undefined && id !== undefined ? { createdAt: new Date(Number(at)), id } : undefined,
    );
    const shown = rows.slice(0, query.limit);
    const items = await Promise.all(
      shown.map(async (row) =>
        rolloutOf(row, await this.store.counts(row.id), await this.store.jobs(row.id)),
      ),
    );
    const last = shown.at(-1);
    return {
      items,
      ...(rows.length > query.limit && last
        ? { next: `${last.created_at.getTime()}.${last.id}` }
        : {}),
    };
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
    this.notices.changed(moved.id, true);
    return this.get(id);
  }
}
