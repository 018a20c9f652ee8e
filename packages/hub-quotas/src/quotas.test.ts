import { describe, expect, it } from 'vitest';
import { describeQuota, describeRate, hubQuota, parseHubTier } from './quotas.ts';
import { TokenBucket } from './token-bucket.ts';

describe('IoT Hub quotas by tier and units', () => {
  it('when a hub is one S1 unit, then its throttles are those IoT Hub documents', () => {
    const { rates } = hubQuota('S1');
    expect(describeRate(rates.query)).toBe('20 a minute');
    expect(describeRate(rates.identity)).toBe('100 a minute');
    expect(describeRate(rates.twinRead)).toBe('100 a second');
    expect(describeRate(rates.twinUpdate)).toBe('50 a second');
    expect(describeRate(rates.method)).toBe('40 a second');
    expect(describeRate(rates.configurations)).toBe('20 a minute');
  });

  it('when units are added, then per-unit throttles scale and flat ones follow their tier', () => {
    const s1 = hubQuota('S1', 4).rates;
    expect(describeRate(s1.query)).toBe('80 a minute');
    expect(describeRate(s1.twinRead)).toBe('100 a second');
    const s2 = hubQuota('S2', 20).rates;
    expect(describeRate(s2.twinRead)).toBe('200 a second');
    expect(describeRate(s2.twinUpdate)).toBe('100 a second');
    const s3 = hubQuota('S3', 2).rates;
    expect(describeRate(s3.query)).toBe('2000 a minute');
    expect(describeRate(s3.twinUpdate)).toBe('500 a second');
  });

  it('when a tier setting is read, then S1, S2x4 and unlimited parse, anything else is refused', () => {
    expect(describeQuota(parseHubTier('S1'))).toBe('S1');
    expect(describeQuota(parseHubTier('s2x4'))).toBe('S2 ×4');
    expect(parseHubTier('unlimited')).toBeUndefined();
    expect(() => parseHubTier('S4')).toThrow(/not a hub tier/);
    expect(() => parseHubTier('F1x2')).toThrow(/exactly 1 unit/);
    expect(() => parseHubTier('S1x0')).toThrow(/whole units/);
  });
});

describe('token bucket', () => {
  it('when a burst exceeds one period, then the rest waits for the rate, and `keep` holds tokens back', () => {
    const bucket = new TokenBucket(20 / 60, 20, 0);
    for (let i = 0; i < 20; i++) expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(3);
    expect(bucket.take(3000)).toBe(0);
    const reserved = new TokenBucket(1, 2, 0);
    expect(reserved.take(0, 1)).toBe(0);
    expect(reserved.take(0, 1)).toBe(1);
    expect(reserved.take(0)).toBe(0);
  });
});
