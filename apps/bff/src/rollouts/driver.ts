import { randomUUID } from 'node:crypto';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Database } from '../adapters/store/sql.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import type { Logger } from '../log.ts';
import type { RolloutNotices } from './notices.ts';
import { prepare } from './prepare.ts';
import { rollBack } from './rollback.ts';
import { RolloutStore } from './rollout-store.ts';
import { Halt, Later, type Steps } from './steps.ts';
import { runWave } from './wave.ts';

export interface DriverOptions {
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

/**
 * Drives rollouts: any replica may drive one, one at a time (a lease in the database), and
 * one that stops is taken over where it left off. Each turn of a rollout's loop is one step
 * (preparing, a wave's writes, checks or verdict, a batch of the rollback); a step that
 * cannot be made now is tried again with back-off, and a rollout that changes under it
 * (paused, cancelled) is read again.
 */
export class RolloutDriver implements Steps {
  readonly store: RolloutStore;
  readonly replicaId: string;
  readonly checkMs: number;
  readonly concurrency: number;
  private readonly leaseSeconds: number;
  private readonly pollMs: number;
  private readonly maxDriven: number;
  private readonly driving = new Map<string, Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopHearing: (() => void) | undefined;
  private stopped = true;

  constructor(
    db: Database,
    readonly hub: HubAdapter,
    readonly audit: AuditTrail,
    readonly logger: Logger,
    private readonly notices: RolloutNotices,
    options: DriverOptions = {},
  ) {
    this.store = new RolloutStore(db);
    this.replicaId = options.replicaId ?? randomUUID();
    this.leaseSeconds = options.leaseSeconds ?? 15;
    this.pollMs = options.pollMs ?? 1000;
    this.checkMs = options.checkMs ?? 2000;
    this.concurrency = options.concurrency ?? 48;
    this.maxDriven = options.maxDriven ?? 4;
  }

  start(): void {
    this.stopped = false;
    this.stopHearing = this.notices.onChange(() => this.wake());
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
    this.stopHearing?.();
    this.wake();
    await Promise.allSettled([...this.driving.values()]);
  }

  changed(id: string, now = false): void {
    this.notices.changed(id, now);
  }

  /** Waits `ms`, or less when a rollout changes (someone paused it) or the BFF stops. */
  rest(ms: number): Promise<void> {
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

  private wake(): void {
    for (const wake of [...this.wakers]) wake();
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
          if (row.status === 'preparing') await prepare(this, row);
          else if (row.status === 'running') await runWave(this, row, lease);
          else if (row.status === 'rolling_back') await rollBack(this, row, lease);
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
}
