import type { RolloutPlan } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { describePlan } from './plan-text.ts';

const plan: RolloutPlan = {
  canary: { kind: 'count', value: 5 },
  growth: 2,
  maxWaves: 10,
  success: { kind: 'written' },
  failureThreshold: 10,
  approval: false,
};

describe("a rollout's plan in words", () => {
  it('when the canary is a count and success is the write, then it reads as one paragraph', () => {
    expect(describePlan(plan, false)).toBe(
      'A canary of 5 twin(s), then waves ×2 (at most 10). A twin succeeds when the write lands. Stops past 10 % failed in a wave.',
    );
  });

  it('when it calls a method, then success is its answer; an approval is said last', () => {
    expect(describePlan({ ...plan, approval: true }, true)).toMatch(
      /succeeds when the method answers 2xx\. .* An Admin approves after the canary\.$/,
    );
  });

  it('when success waits for the twin, then it names the condition and its time limit', () => {
    expect(
      describePlan(
        {
          ...plan,
          canary: { kind: 'percent', value: 1.5 },
          success: { kind: 'mirrors', timeoutSeconds: 60 },
        },
        false,
      ),
    ).toContain(
      'A canary of 1.5 % of the targets, then waves ×2 (at most 10). A twin succeeds when reported properties mirror the change within 60 s.',
    );
    expect(
      describePlan(
        {
          ...plan,
          success: { kind: 'query', where: 'properties.reported.fw = 2', timeoutSeconds: 90 },
        },
        false,
      ),
    ).toContain('A twin succeeds when "properties.reported.fw = 2" holds within 90 s.');
  });
});
