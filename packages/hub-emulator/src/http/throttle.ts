import { TokenBucket, type HubQuota, type Rate } from '@twinscope/hub-quotas';
import { HubError } from '../errors.ts';

export type ThrottleClass =
  'identity' | 'query' | 'twinRead' | 'twinUpdate' | 'jobs' | 'configurations';

/** Custom limits (tests): operations per second for each class (jobs: 100 a minute unless told). */
export type ThrottleLimits = Record<Exclude<ThrottleClass, 'jobs' | 'configurations'>, number> & {
  jobs?: number;
  configurations?: number;
};

/** Custom limits read as IoT Hub quotes them: identity and queries a minute, twins a second. */
function ratesOf(limits: ThrottleLimits | HubQuota): Record<ThrottleClass, Rate> {
  if ('rates' in limits) return limits.rates;
  return {
    jobs: { perSecond: limits.jobs ?? 100 / 60, periodSeconds: 60 },
    configurations: { perSecond: limits.configurations ?? 20 / 60, periodSeconds: 60 },
    identity: { perSecond: limits.identity, periodSeconds: 60 },
    query: { perSecond: limits.query, periodSeconds: 60 },
    twinRead: { perSecond: limits.twinRead, periodSeconds: 1 },
    twinUpdate: { perSecond: limits.twinUpdate, periodSeconds: 1 },
  };
}

/** IoT Hub-shaped throttling: token buckets that answer 429 with Retry-After. */
export class Throttle {
  private readonly buckets: Record<ThrottleClass, TokenBucket>;

  constructor(
    limits: ThrottleLimits | HubQuota,
    private readonly now: () => number = Date.now,
  ) {
    const rates = ratesOf(limits);
    const start = now();
    this.buckets = {
      identity: TokenBucket.forRate(rates.identity, start),
      query: TokenBucket.forRate(rates.query, start),
      twinRead: TokenBucket.forRate(rates.twinRead, start),
      twinUpdate: TokenBucket.forRate(rates.twinUpdate, start),
      jobs: TokenBucket.forRate(rates.jobs, start),
      configurations: TokenBucket.forRate(rates.configurations, start),
    };
  }

  check(kind: ThrottleClass): void {
    const wait = this.buckets[kind].take(this.now());
    if (wait > 0) {
      throw new HubError(
        'ThrottlingException',
        `Too many ${kind} requests for this hub's units; retry after ${wait} s.`,
        { 'Retry-After': String(wait) },
      );
    }
  }
}

/**
 * Service operations served, per throttle class: what the hub would count against its
 * quotas (refused ones are not). A developer reads what their app spends; tests count it.
 */
export class ServedOperations {
  private readonly counts = new Map<ThrottleClass, number>();

  count(kind: ThrottleClass): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  /** How many of a class were served since the emulator started. */
  of(kind: ThrottleClass): number {
    return this.counts.get(kind) ?? 0;
  }
}
