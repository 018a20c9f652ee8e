/**
 * A token bucket: `perSecond` tokens flow in up to `capacity`. IoT Hub shapes traffic this
 * way (a burst up to one period's worth, then the rate).
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    now: number = Date.now(),
  ) {
    this.tokens = capacity;
    this.updated = now;
  }

  /** A bucket holding one period's worth of a rate (at least one token). */
  static forRate(rate: { perSecond: number; periodSeconds: number }, now?: number): TokenBucket {
    return new TokenBucket(rate.perSecond, Math.max(1, rate.perSecond * rate.periodSeconds), now);
  }

  private refill(now: number): void {
    this.tokens = Math.min(
      this.capacity,
      this.tokens + (Math.max(0, now - this.updated) / 1000) * this.perSecond,
    );
    this.updated = now;
  }

  /** Tokens in the bucket now. */
  available(now: number = Date.now()): number {
    this.refill(now);
    return this.tokens;
  }

  /**
   * Takes one token if more than `keep` would be left over, and answers 0; otherwise takes
   * nothing and answers the seconds until it could (at least 1).
   */
  take(now: number = Date.now(), keep = 0): number {
    this.refill(now);
    if (this.tokens >= 1 + keep) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 + keep - this.tokens) / this.perSecond));
  }

  /** Milliseconds until a token could be taken leaving `keep` (0: now). */
  waitMs(now: number = Date.now(), keep = 0): number {
    this.refill(now);
    return this.tokens >= 1 + keep
      ? 0
      : Math.ceil(((1 + keep - this.tokens) / this.perSecond) * 1000);
  }

  /** Gives back a token taken for a call that was not made after all. */
  giveBack(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }
}
