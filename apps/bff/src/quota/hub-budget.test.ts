import { hubQuota } from '@twinscope/hub-quotas';
import { describe, expect, it } from 'vitest';
import { HubBudget } from './hub-budget.ts';

describe('hub budget from the quota model', () => {
  it('when one person loops queries on one S1 unit, then they get half the minute and others still get theirs', () => {
    let now = 0;
    const budget = new HubBudget(hubQuota('S1'), { now: () => now });
    const reader = { user: 'reader' };
    let granted = 0;
    while (!budget.take('query', reader)) granted++;
    expect(granted).toBe(10);
    const refusal = budget.take('query', reader)!;
    expect(refusal.message).toMatch(/Your share of the hub's queries is spent: 20 a minute/);
    expect(refusal.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(budget.take('query', { user: 'operator' })).toBeUndefined();
    now += 6000; // one more token for the reader (10 a minute)
    expect(budget.take('query', reader)).toBeUndefined();
  });

  it('when people spend the hub-wide queries, then the reserve is left for live polling', () => {
    const budget = new HubBudget(hubQuota('S1'), { now: () => 0 });
    let granted = 0;
    for (let user = 0; user < 10; user++)
      while (!budget.take('query', { user: `u${user}` })) granted++;
    // 20 a minute in all, one kept back: people got 19, the poller gets the last one.
    expect(granted).toBe(19);
    expect(budget.take('query', { user: 'late' })!.message).toMatch(/shared by everyone/);
    expect(budget.take('query', 'background')).toBeUndefined();
    expect(budget.take('query', 'background')).toBeDefined();
  });

  it('when twin reads are per second, then they are hub-wide, not split per person', () => {
    const budget = new HubBudget(hubQuota('S1'), { now: () => 0 });
    let granted = 0;
    while (!budget.take('twinRead', { user: 'a' })) granted++;
    expect(granted).toBe(100);
  });

  it('when the hub has no quota (the emulator without --throttle), then nothing is refused', () => {
    const budget = new HubBudget(undefined);
    for (let i = 0; i < 10_000; i++) expect(budget.take('query', { user: 'x' })).toBeUndefined();
    expect(budget.queriesPerMinute).toBeUndefined();
  });
});
