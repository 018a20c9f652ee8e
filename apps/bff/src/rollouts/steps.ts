import type { Twin } from '@twinscope/contract';
import { stripReadOnly } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import type { Logger } from '../log.ts';
import type { Sections } from './plan.ts';
import type { RolloutStore } from './rollout-store.ts';

/** What each step of driving a rollout works with (the driver hands itself over as this). */
export interface Steps {
  store: RolloutStore;
  hub: HubAdapter;
  audit: AuditTrail;
  logger: Logger;
  /** This replica's name in leases. */
  replicaId: string;
  /** Twin writes or calls in flight at once (the budget paces them). */
  concurrency: number;
  /** How often a wave's success condition (or a job) is checked. */
  checkMs: number;
  /** Tells every replica (and so every tab) that a rollout changed; throttled unless `now`. */
  changed(id: string, now?: boolean): void;
  /** Waits `ms`, or less when a rollout changes or the BFF stops. */
  rest(ms: number): Promise<void>;
}

/** Targets a step reads from the store at once. */
export const BATCH = 200;

/** A step that could not be made now (the hub throttles, is down, or the lease is gone). */
export class Later extends Error {}
/** The rollout's status moved under the driver (paused, cancelled): it reads it again. */
export class Halt extends Error {}

export const sectionsOf = (twin: Twin): Sections => ({
  tags: twin.tags,
  desired: stripReadOnly(twin.properties.desired),
});

/** What the audit trail records of a twin before and after a write. */
export const versions = (twin: Twin) => {
  const desiredVersion = twin.properties.desired['$version'];
  return {
    etag: twin.etag,
    version: twin.version,
    ...(typeof desiredVersion === 'number' ? { desiredVersion } : {}),
  };
};

export const codeOf = (error: unknown) =>
  error instanceof AppError ? error.code : 'internal_error';
export const messageOf = (error: unknown) =>
  error instanceof AppError ? error.message : 'The write failed.';

/** Errors that say "not now" rather than "never": the target is tried again. */
export const TRANSIENT = new Set([
  'throttled',
  'hub_unreachable',
  'database_unavailable',
  'outcome_unknown',
  'internal_error',
]);

/** Runs `workers` workers over some items; the first failure is thrown once all have stopped. */
export async function pool<T>(
  items: T[],
  work: (item: T) => Promise<void>,
  workers: number,
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
