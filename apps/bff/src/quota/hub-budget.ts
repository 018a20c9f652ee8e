import {
  describeQuota,
  describeRate,
  TokenBucket,
  type HubQuota,
  type QuotaClass,
  type Rate,
} from '@twinscope/hub-quotas';

/** The hub operations the BFF makes, by the throttle IoT Hub counts them against. */
export type BudgetClass = QuotaClass;

/** Who spends: a person (their user id), or the BFF itself (live polling, the event feed). */
export type Spender = { user: string } | 'background';

export interface BudgetOptions {
  /** The share of a per-minute throttle one person may use (so one cannot starve the rest). */
  userShare?: number;
  /** Tokens of a per-minute throttle people leave for the BFF's own work (live polling). */
  reserve?: number;
  now?: () => number;
}

export interface Refusal {
  retryAfterSeconds: number;
  /** When the hub-wide bucket holds a token again (the BFF's own work waits exactly this). */
  waitMs: number;
  message: string;
}

const PER_MINUTE: readonly BudgetClass[] = [
  'identity',
  'query',
  'cloudToDevice',
  'configurations',
  'jobs',
];
const NOUN: Record<BudgetClass, string> = {
  identity: 'identity operations',
  query: 'queries',
  twinRead: 'twin reads',
  twinUpdate: 'twin updates',
  method: 'direct method calls',
  cloudToDevice: 'cloud-to-device sends',
  configurations: 'configuration operations',
  jobs: 'job operations',
};

/**
 * What this BFF may spend of the hub's throttles, from one model of them (tier and units).
 * Each class has a hub-wide bucket at the hub's rate; the per-minute classes (queries, 20 a
 * minute on S1; identity operations) also have a bucket per person at a share of it, and
 * people leave a reserve for the BFF's own live polling. Without a quota (the emulator
 * without --throttle) nothing is counted.
 */
export class HubBudget {
  private readonly hub = new Map<BudgetClass, TokenBucket>();
  private readonly users = new Map<string, Map<BudgetClass, TokenBucket>>();
  private readonly userShare: number;
  private readonly reserve: number;
  private readonly now: () => number;

  constructor(
    readonly quota: HubQuota | undefined,
    options: BudgetOptions = {},
  ) {
    this.userShare = options.userShare ?? 0.5;
    this.reserve = options.reserve ?? 1;
    this.now = options.now ?? Date.now;
    if (!quota) return;
    for (const kind of [
      'identity',
      'query',
      'twinRead',
      'twinUpdate',
      'method',
      'cloudToDevice',
      'configurations',
      'jobs',
    ] as const)
      this.hub.set(kind, TokenBucket.forRate(quota.rates[kind], this.now()));
  }

  /** The hub's rate for a class, when it has one. */
  rate(kind: BudgetClass): Rate | undefined {
    return this.quota?.rates[kind];
  }

  /** What each class's hub-wide bucket holds now, as a share of what it can hold (0 to 1). */
  remaining(): [BudgetClass, number][] {
    const now = this.now();
    return [...this.hub].map(([kind, bucket]) => [kind, bucket.available(now) / bucket.capacity]);
  }

  /** Queries a minute for the whole hub (undefined: no limit). */
  get queriesPerMinute(): number | undefined {
    const rate = this.rate('query');
    return rate ? rate.perSecond * 60 : undefined;
  }

  private userBucket(user: string, kind: BudgetClass): TokenBucket {
    let buckets = this.users.get(user);
    if (!buckets) {
      // People are few; a flood of ids (a bug, an attack) must not grow this without bound.
      if (this.users.size >= 10_000) this.users.clear();
      buckets = new Map();
      this.users.set(user, buckets);
    }
    let bucket = buckets.get(kind);
    if (!bucket) {
      const rate = this.quota!.rates[kind];
      bucket = TokenBucket.forRate(
        { perSecond: rate.perSecond * this.userShare, periodSeconds: rate.periodSeconds },
        this.now(),
      );
      buckets.set(kind, bucket);
    }
    return bucket;
  }

  /** Takes one operation of `kind`; answers undefined when it may go now, or why not. */
  take(kind: BudgetClass, spender: Spender): Refusal | undefined {
    const hub = this.hub.get(kind);
    if (!hub) return undefined;
    const now = this.now();
    const perMinute = PER_MINUTE.includes(kind);
    const person =
      spender !== 'background' && perMinute ? this.userBucket(spender.user, kind) : undefined;
    const own = person?.take(now) ?? 0;
    if (own > 0)
      return {
        retryAfterSeconds: own,
        waitMs: own * 1000,
        message: this.explain(kind, true, own),
      };
    const keep = spender !== 'background' && perMinute ? this.reserve : 0;
    const shared = hub.take(now, keep);
    if (shared > 0) {
      person?.giveBack();
      return {
        retryAfterSeconds: shared,
        waitMs: hub.waitMs(now, keep),
        message: this.explain(kind, false, shared),
      };
    }
    return undefined;
  }

  private explain(kind: BudgetClass, own: boolean, seconds: number): string {
    const rate = this.quota!.rates[kind];
    const hub = `${describeRate(rate)} for the whole hub (${describeQuota(this.quota)})`;
    const who = own
      ? `Your share of the hub's ${NOUN[kind]} is spent: ${hub}, ${Math.round(this.userShare * 100)}% of it for one person.`
      : `The hub's ${NOUN[kind]} are spent: ${hub}, shared by everyone using Twinscope.`;
    return `${who} Try again in ${seconds} s.`;
  }
}
