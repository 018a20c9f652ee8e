import { describe, expect, it } from 'vitest';
import { waveSizes } from '@twinscope/contract';
import { testPlan as plan } from '../test/fixtures/rollout-plan.ts';
import { applyChange, firstDifference, holdsChange } from './plan.ts';

describe('rollout plans', () => {
  it('when waves grow from a canary, then every target has exactly one wave and the last takes the rest', () => {
    expect(waveSizes(3, plan({}))).toEqual([1, 2]);
    expect(waveSizes(100, plan({ canary: { kind: 'count', value: 5 } }))).toEqual([
      5, 10, 20, 40, 25,
    ]);
    expect(waveSizes(1000, plan({ canary: { kind: 'percent', value: 1 }, growth: 10 }))).toEqual([
      10, 100, 890,
    ]);
    expect(waveSizes(100_000, plan({ maxWaves: 3 }))).toEqual([1, 2, 99_997]);
    // A growth of 1 still moves on (waves of at least one more), and a canary past the fleet is the fleet.
    expect(waveSizes(6, plan({ growth: 1 }))).toEqual([1, 2, 3]);
    expect(waveSizes(4, plan({ canary: { kind: 'count', value: 50 } }))).toEqual([4]);
    expect(waveSizes(0, plan({}))).toEqual([]);
    for (const total of [1, 7, 999, 12_345])
      expect(
        waveSizes(total, plan({ canary: { kind: 'percent', value: 3 } })).reduce((a, b) => a + b),
      ).toBe(total);
  });

  it('when a change is applied, then its inverse restores the twin exactly, and a twin holding it is recognised', () => {
    const twin = {
      tags: { site: 'lyon', owner: { team: 'eu' } },
      desired: { mode: 'eco', old: 1 },
    };
    const change = { tags: { owner: { pager: 'x' } }, desired: { mode: 'comfort', old: null } };
    const { after, inverse } = applyChange(twin, change);
    expect(after).toEqual({
      tags: { site: 'lyon', owner: { team: 'eu', pager: 'x' } },
      desired: { mode: 'comfort' },
    });
    expect(inverse).toEqual({ tags: { owner: { pager: null } }, desired: { mode: 'eco', old: 1 } });
    expect(holdsChange(twin, change)).toBe(false);
    expect(holdsChange({ tags: after.tags!, desired: after.desired! }, change)).toBe(true);
    expect(
      applyChange({ tags: after.tags!, desired: after.desired! }, inverse as never).after,
    ).toEqual(twin);
  });

  it('when someone changed a twin after the rollout, then the first difference is named', () => {
    expect(firstDifference({ ring: 'manual' }, { ring: 'canary' }, 'tags')).toBe(
      'tags.ring is now "manual"',
    );
    expect(firstDifference({}, { a: { b: 1 } }, 'properties.desired')).toBe(
      'properties.desired.a is now null',
    );
    expect(firstDifference({ gone: 1 }, { gone: null }, 'tags')).toBe('tags.gone is now 1');
    expect(firstDifference({ a: { b: 1 } }, { a: { b: 1 } }, 'tags')).toBeUndefined();
  });
});
