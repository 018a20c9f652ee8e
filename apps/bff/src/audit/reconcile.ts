import type { Twin } from '@twinscope/contract';
import {
  holdsPatch,
  isJsonObject,
  objectOf,
  stripReadOnly,
  type JsonObject,
} from '@twinscope/twin';
import type { Database } from '../adapters/store/sql.ts';
import { AppError } from '../core/app-error.ts';
import type { Logger } from '../log.ts';
import type { AuditOutcome } from './records.ts';

/** Twin writes whose outcome the twin itself tells afterwards. */
const TWIN_WRITES = ['twin.patch', 'twin.replace', 'rollout.write', 'rollout.revert'];

/** What reconciliation reads from the hub: the twin as it is now. */
export interface TwinReader {
  getTwin(deviceId: string, moduleId?: string): Promise<Twin>;
}

export interface ReconcileOptions {
  /** An attempt this old with no outcome is settled (a newer one may still be in flight). */
  afterMs?: number;
  /** How often unsettled attempts are looked for. */
  everyMs?: number;
  /** Attempts settled a round, at most. */
  batch?: number;
}

interface Unsettled {
  id: string;
  device_id: string;
  module_id: string;
  change: JsonObject;
  before: { etag?: string; version?: number } | null;
}

/** Whether some tags and desired properties hold a change's (both patches, null deleting). */
function holds(sections: { tags: JsonObject; desired: JsonObject }, change: JsonObject): boolean {
  const tags = change['tags'];
  const desired = change['desired'];
  if (!isJsonObject(tags) && !isJsonObject(desired)) return false;
  return (
    (!isJsonObject(tags) || holdsPatch(sections.tags, tags)) &&
    (!isJsonObject(desired) || holdsPatch(sections.desired, desired))
  );
}

/**
 * Settles twin writes whose outcome was never recorded (the BFF stopped between the hub's
 * answer and the record, or the database went away and the process with it), against the
 * hub once it answers: a twin still at the etag the write was made against never got it; a
 * version the twins' history stored with this change, or the very next version holding it,
 * is the one it made, and is credited to its author; anything else is said to be unknowable.
 */
export class OutcomeReconciler {
  private readonly afterMs: number;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly db: Database,
    private readonly hub: TwinReader,
    private readonly logger: Logger,
    private readonly options: ReconcileOptions = {},
  ) {
    this.afterMs = options.afterMs ?? 2 * 60_000;
    this.batch = options.batch ?? 100;
  }

  start(): void {
    const round = () => void this.reconcile().catch(() => undefined);
    round();
    this.timer = setInterval(round, this.options.everyMs ?? 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One round; answers how many attempts it settled. Rounds never overlap. */
  reconcile(now = Date.now()): Promise<number> {
    this.running ??= this.round(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(now: number): Promise<number> {
    const { rows } = await this.db.query<Unsettled>(
      `SELECT id, device_id, module_id, change, before FROM audit_entries
       WHERE result = 'unknown' AND finished_at IS NULL AND action = ANY($1::text[])
         AND at < $2 ORDER BY seq LIMIT $3`,
      [TWIN_WRITES, new Date(now - this.afterMs), this.batch],
    );
    let settled = 0;
    for (const row of rows) {
      let outcome: AuditOutcome;
      try {
        outcome = await this.outcomeOf(row);
      } catch (error) {
        // The hub does not answer (yet): the next round tries again.
        this.logger.warn('audit reconciliation paused: the hub did not answer', {
          message: (error as Error).message,
        });
        break;
      }
      const { rows: updated } = await this.db.query(
        `UPDATE audit_entries SET result = $2, after = $3, error = $4, finished_at = now()
         WHERE id = $1 AND result = 'unknown' AND finished_at IS NULL RETURNING id`,
        [row.id, outcome.result, outcome.after ?? null, outcome.error ?? null],
      );
      settled += updated.length;
    }
    if (settled > 0) this.logger.info('audit outcomes settled against the hub', { settled });
    return settled;
  }

  private async outcomeOf(row: Unsettled): Promise<AuditOutcome> {
    const moduleId = row.module_id || undefined;
    const checked = `Settled against the hub on ${new Date().toISOString()}`;
    let twin: Twin;
    try {
      twin = await this.hub.getTwin(row.device_id, moduleId);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found')
        return {
          result: 'unknown',
          error: {
            code: 'outcome_unknown',
            message: `${checked}: the ${moduleId ? 'module' : 'device'} no longer exists, so whether this write was applied cannot be told.`,
          },
        };
      throw error;
    }
    const before = row.before ?? {};
    if (before.etag !== undefined && twin.etag === before.etag)
      return {
        result: 'failed',
        error: {
          code: 'not_applied',
          message: `${checked}: the twin is still as it was before this write, so it never reached the hub.`,
        },
      };
    const from = before.version ?? 0;
    // The twins' history holds each version's change: the first after the attempt that
    // carries this one is the version it made.
    const { rows: stored } = await this.db.query<{ version: number; patch: JsonObject | null }>(
      `SELECT version, patch FROM twin_changes
       WHERE device_id = $1 AND module_id = $2 AND version > $3 AND patch IS NOT NULL
       ORDER BY version LIMIT 50`,
      [row.device_id, row.module_id, from],
    );
    const made = stored.find(({ patch }) =>
      holds(
        {
          tags: objectOf(patch?.['tags']),
          desired: stripReadOnly(objectOf(objectOf(patch?.['properties'])['desired'])),
        },
        row.change,
      ),
    );
    if (made) return { result: 'succeeded', after: { version: made.version } };
    // Without the history: the very next version, holding the change, is this write's.
    const now = { tags: twin.tags, desired: stripReadOnly(twin.properties.desired) };
    if (
      before.version !== undefined &&
      twin.version === before.version + 1 &&
      holds(now, row.change)
    )
      return { result: 'succeeded', after: { version: twin.version, etag: twin.etag } };
    return {
      result: 'unknown',
      error: {
        code: 'outcome_unknown',
        message: `${checked}: the twin changed since, and nothing shows whether this write was one of those changes.`,
      },
    };
  }
}
