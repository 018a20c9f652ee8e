import { abortableHubCall } from '@twinscope/hub-connection';
import { isIdentityId } from '@twinscope/twin';
import { AppError } from '../../core/app-error.ts';
import { ClientGoneError, type CallContext } from '../../core/call-context.ts';
import type { Logger } from '../../log.ts';
import type { BudgetClass, HubBudget, Spender } from '../../quota/hub-budget.ts';
import {
  budgetRefused,
  budgetSpent,
  hubThrottled,
  traceHubCall,
} from '../../telemetry/instruments.ts';
import { mapHubError, UNKNOWN_OUTCOME, type CallKind, type SdkError } from './errors.ts';

/** Starts one SDK request so that it is abandoned with the call it belongs to. */
export type Sdk = <R>(start: () => Promise<R>) => Promise<R>;

/** What a call costs of the hub's throttles, per class. */
export type Cost = Partial<Record<BudgetClass, number>>;

export interface CallOptions {
  logger: Logger;
  /** Throttled calls are retried while the total wait stays under this. */
  maxThrottleWaitMs?: number;
  /** How long one hub call (retries included) may take before it is abandoned. */
  deadlineMs?: number;
  /** What the BFF may spend of the hub's throttles; none: nothing is counted. */
  budget?: HubBudget;
  sleep?: (ms: number) => Promise<void>;
}

/** How the hub last answered a call: readiness says from it whether the hub is answering. */
export interface HubAnswer {
  at: number;
  ok: boolean;
  /** Why not, as the operator's message says it. */
  reason?: string;
}

/** Codes that mean the hub did not answer, or refused the BFF itself (its credentials). */
const NOT_ANSWERING = new Set(['hub_unreachable', 'outcome_unknown', 'hub_error']);

/**
 * The pipeline every hub call goes through: its cost is taken from the budget, it is
 * abandoned at its deadline (and a read also when the browser that asked goes away; a write
 * already sent is left to finish, so its outcome is recorded), 429s are retried honouring
 * Retry-After within the deadline, and whatever the SDK raises leaves as an AppError.
 */
export class HubCalls {
  readonly deadlineMs: number;
  /** The hub's last answer (a 404 or a 412 is an answer; a timeout or a 401 is not). */
  lastAnswer: HubAnswer | undefined;
  private readonly maxThrottleWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CallOptions) {
    this.deadlineMs = options.deadlineMs ?? 15_000;
    this.maxThrottleWaitMs = options.maxThrottleWaitMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async call<T>(
    what: string,
    kind: CallKind,
    cost: Cost,
    context: CallContext | undefined,
    run: (sdk: Sdk) => Promise<T>,
    deadlineMs = this.deadlineMs,
  ): Promise<T> {
    try {
      const result = await traceHubCall(
        { target: what, kind, classes: Object.keys(cost) },
        (error) => (error instanceof AppError ? error.code : 'error'),
        () => this.attempt(what, kind, cost, context, run, deadlineMs),
      );
      this.lastAnswer = { at: Date.now(), ok: true };
      return result;
    } catch (error) {
      // The BFF's own budget, or a browser gone: the hub was not asked.
      if (error instanceof AppError && error.code !== 'throttled')
        this.lastAnswer = NOT_ANSWERING.has(error.code)
          ? { at: Date.now(), ok: false, reason: error.message }
          : { at: Date.now(), ok: true };
      throw error;
    }
  }

  private async attempt<T>(
    what: string,
    kind: CallKind,
    cost: Cost,
    context: CallContext | undefined,
    run: (sdk: Sdk) => Promise<T>,
    deadlineMs: number,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(deadlineMs);
    const signal =
      kind === 'read' && context ? AbortSignal.any([deadline, context.signal]) : deadline;
    await this.spend(
      cost,
      context ? { user: context.caller ?? 'anonymous' } : 'background',
      signal,
    );
    // Each SDK request is bound to the signal as it is started.
    const sdk: Sdk = (start) => abortableHubCall(signal, start);
    try {
      return await this.withRetries(what, kind, cost, signal, () => run(sdk));
    } catch (error) {
      if (!signal.aborted) throw error;
      if (signal.reason instanceof ClientGoneError) throw signal.reason;
      const seconds = Math.round(deadlineMs / 100) / 10;
      throw kind === 'write'
        ? new AppError(
            'outcome_unknown',
            `The IoT hub did not answer within ${seconds} s, ${UNKNOWN_OUTCOME}`,
          )
        : new AppError(
            'hub_unreachable',
            `The IoT hub did not answer within ${seconds} s; nothing was changed. Try again shortly.`,
          );
    }
  }

  /**
   * Takes what a call costs from the budget before it is made. A person over budget gets
   * 429 at once (the console retries later); the BFF's own work waits its turn.
   */
  private async spend(cost: Cost, spender: Spender, signal: AbortSignal): Promise<void> {
    const budget = this.options.budget;
    if (!budget) return;
    for (const kind of Object.keys(cost) as BudgetClass[]) {
      for (let i = 0; i < (cost[kind] ?? 0); i++) {
        for (;;) {
          const refusal = budget.take(kind, spender);
          if (!refusal) {
            budgetSpent(kind, spender === 'background' ? 'background' : 'person');
            break;
          }
          if (spender !== 'background' || signal.aborted) {
            if (spender !== 'background') budgetRefused(kind);
            throw new AppError('throttled', refusal.message, {
              retryAfterSeconds: refusal.retryAfterSeconds,
            });
          }
          // Waits as long as the bucket needs to hold a token again, not a whole second: a
          // rollout paced by the budget keeps to its rate instead of bursting and idling.
          await this.sleep(Math.max(2, Math.min(refusal.waitMs, 1000)));
        }
      }
    }
  }

  private async withRetries<T>(
    what: string,
    kind: CallKind,
    cost: Cost,
    signal: AbortSignal,
    run: () => Promise<T>,
  ): Promise<T> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await untilAborted(signal, run());
      } catch (error) {
        if (signal.aborted) throw error;
        const mapped = mapHubError(error, what, kind);
        const cause = mapped.extras.cause;
        if (mapped.code === 'hub_error' && cause instanceof Error) {
          const e: SdkError = cause;
          this.options.logger.warn('hub call failed', {
            what,
            error: e.constructor.name,
            message: e.message,
            status: e.response?.statusCode,
          });
        }
        if (mapped.code !== 'throttled') throw mapped;
        hubThrottled(Object.keys(cost));
        const wait = (mapped.extras.retryAfterSeconds ?? 2 ** attempt) * 1000;
        if (waited + wait > this.maxThrottleWaitMs) throw mapped;
        this.options.logger.info('hub throttled; retrying', {
          what,
          waitMs: wait,
          attempt: attempt + 1,
        });
        await untilAborted(signal, this.sleep(wait));
        waited += wait;
      }
    }
  }
}

/** Every id the SDK puts in a path: never one a path normaliser could rewrite. */
export function checkIds(deviceId: string, moduleId?: string): void {
  for (const id of moduleId === undefined ? [deviceId] : [deviceId, moduleId]) {
    if (!isIdentityId(id))
      throw new AppError(
        'validation_failed',
        `${JSON.stringify(id.slice(0, 140))} is not a valid IoT Hub id.`,
      );
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts, whichever is first. */
function untilAborted<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}
