import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, planFromForm } from './plan-form.ts';

describe('the rollout form', () => {
  it('when filled in, then it becomes the plan the BFF takes; a wrong field is named', () => {
    expect(planFromForm(DEFAULT_PLAN)).toEqual({
      ok: true,
      plan: {
        canary: { kind: 'count', value: 1 },
        growth: 2,
        maxWaves: 10,
        success: { kind: 'mirrors', timeoutSeconds: 120 },
        failureThreshold: 0,
        approval: false,
      },
    });
    const share = planFromForm({
      ...DEFAULT_PLAN,
      canaryKind: 'percent',
      canary: '2.5',
      success: 'query',
      where: " properties.reported.fw = '2.1' ",
      failureThreshold: '10',
      approval: true,
    });
    expect(share).toMatchObject({
      ok: true,
      plan: {
        canary: { kind: 'percent', value: 2.5 },
        success: { kind: 'query', where: "properties.reported.fw = '2.1'", timeoutSeconds: 120 },
        failureThreshold: 10,
        approval: true,
      },
    });
    expect(planFromForm({ ...DEFAULT_PLAN, canary: '1.5' })).toEqual({
      ok: false,
      error: 'The canary is a whole number from 1 to 100000.',
    });
    expect(planFromForm({ ...DEFAULT_PLAN, success: 'query' })).toMatchObject({ ok: false });
    expect(planFromForm({ ...DEFAULT_PLAN, failureThreshold: '101' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/failure threshold/),
    });
  });
});
