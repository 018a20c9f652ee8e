/**
 * IoT Hub's operation throttles, per tier and number of units, as "IoT Hub quotas and
 * throttling" documents them (learn.microsoft.com/azure/iot-hub/iot-hub-devguide-quotas-throttling).
 * Free and Basic 1 share the S1 column; Basic tiers have no twins or methods, so only the
 * standard tiers and Free are modelled.
 */
export const HUB_TIERS = ['F1', 'S1', 'S2', 'S3'] as const;
export type HubTier = (typeof HUB_TIERS)[number];

/** The operation classes IoT Hub throttles separately. */
export type QuotaClass =
  | 'identity'
  | 'query'
  | 'twinRead'
  | 'twinUpdate'
  | 'method'
  | 'cloudToDevice'
  | 'jobs'
  | 'configurations';

export interface Rate {
  perSecond: number;
  /** IoT Hub quotes the class per minute (60) or per second (1); a bucket holds one period. */
  periodSeconds: 60 | 1;
}

export interface HubQuota {
  tier: HubTier;
  units: number;
  rates: Record<QuotaClass, Rate>;
}

const perMinute = (n: number): Rate => ({ perSecond: n / 60, periodSeconds: 60 });
const perSecond = (n: number): Rate => ({ perSecond: n, periodSeconds: 1 });

/**
 * The throttles of a hub of `tier` with `units` units. Direct methods are metered in 4 KB
 * blocks per second (S1 160 KB/s/unit): the rate here is calls of up to 4 KB.
 */
export function hubQuota(tier: HubTier, units = 1): HubQuota {
  if (!Number.isInteger(units) || units < 1 || (tier === 'F1' && units !== 1))
    throw new Error(
      `A ${tier} hub has ${tier === 'F1' ? 'exactly 1 unit' : '1 or more whole units'}.`,
    );
  const u = units;
  const rates: Record<QuotaClass, Rate> =
    tier === 'S3'
      ? {
          identity: perMinute(5000 * u),
          query: perMinute(1000 * u),
          twinRead: perSecond(500 * u),
          twinUpdate: perSecond(250 * u),
          method: perSecond((24 * 1024 * u) / 4),
          cloudToDevice: perMinute(5000 * u),
          jobs: perMinute(5000 * u),
          configurations: perMinute(20 * u),
        }
      : {
          identity: perMinute(100 * u),
          query: perMinute(20 * u),
          twinRead: perSecond(tier === 'S2' ? Math.max(100, 10 * u) : 100),
          twinUpdate: perSecond(tier === 'S2' ? Math.max(50, 5 * u) : 50),
          method: perSecond(((tier === 'S2' ? 480 : 160) * u) / 4),
          cloudToDevice: perMinute(100 * u),
          jobs: perMinute(100 * u),
          configurations: perMinute(20 * u),
        };
  return { tier, units, rates };
}

/**
 * Reads a tier setting: `S1`, `S2x4` (four S2 units), or `unlimited` (no throttling, as the
 * emulator without `--throttle`). Answers undefined for unlimited; throws on anything else.
 */
export function parseHubTier(text: string): HubQuota | undefined {
  const value = text.trim();
  if (/^(unlimited|none)$/i.test(value)) return undefined;
  const match = /^(F1|S1|S2|S3)(?:\s*[x×*]\s*(\d{1,3}))?$/i.exec(value);
  if (!match)
    throw new Error(
      `"${value}" is not a hub tier: use F1, S1, S2 or S3, with x<units> for more than one unit (S2x4), or unlimited.`,
    );
  return hubQuota(match[1]!.toUpperCase() as HubTier, match[2] ? Number(match[2]) : 1);
}

/** `S1`, `S2 ×4`, or `unlimited`: how a quota is named in banners and messages. */
export function describeQuota(quota: HubQuota | undefined): string {
  if (!quota) return 'unlimited';
  return quota.units === 1 ? quota.tier : `${quota.tier} ×${quota.units}`;
}

/** How a class's rate reads to an operator: "20 a minute" or "100 a second". */
export function describeRate(rate: Rate): string {
  const amount = Math.round(rate.perSecond * rate.periodSeconds * 10) / 10;
  const shown = Number.isInteger(amount) ? String(amount) : amount.toFixed(1);
  return `${shown} a ${rate.periodSeconds === 60 ? 'minute' : 'second'}`;
}
