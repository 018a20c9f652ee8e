import { HubError } from './errors.ts';

export type ThrottleClass = 'identity' | 'query' | 'twinRead' | 'twinUpdate';

/** Operations allowed per second for each class. */
export type ThrottleLimits = Record<ThrottleClass, number>;

/** One S1 unit: identity operations 100/min, queries 20/min, twin reads 100/s, updates 50/s. */
export const S1_LIMITS: ThrottleLimits = {
  identity: 100 / 60,
  query: 20 / 60,
  twinRead: 100,
  twinUpdate: 50,
};

class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updated = now;
  }

  /** Takes a token, or returns the seconds until one is available. */
  take(now: number): number {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.updated) / 1000) * this.perSecond,
    );
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
  }
}

/** IoT Hub-shaped throttling: token buckets that answer 429 with Retry-After. */
export class Throttle {
  private readonly buckets: Record<ThrottleClass, TokenBucket>;

  constructor(limits: ThrottleLimits, now: () => number = Date.now) {
    this.now = now;
    const start = now();
    // IoT Hub quotes identity operations and queries per minute, twin reads and updates per
    // second; a bucket holds one such period's worth.
    const bucket = (rate: number, periodSeconds: number) =>
      new TokenBucket(rate, Math.max(1, rate * periodSeconds), start);
    this.buckets = {
      identity: bucket(limits.identity, 60),
      query: bucket(limits.query, 60),
      twinRead: bucket(limits.twinRead, 1),
      twinUpdate: bucket(limits.twinUpdate, 1),
    };
  }

  private readonly now: () => number;

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
