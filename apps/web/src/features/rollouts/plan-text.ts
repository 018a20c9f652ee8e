import { POLICY, type Rollout, type RolloutPlan } from '@twinscope/contract';

/** Who approves the waves after a canary, as the policy says. */
export const APPROVER = POLICY['rollout.approve'].on.fleet;

/** How each write mode writes, and whether it can be undone, in the operator's words. */
export const WRITE_MODE: Record<Rollout['writeMode'], string> = {
  'per-twin':
    'Each twin is written on its own with its etag; its old values are kept for a rollback.',
  job: "Each wave's devices are called by one IoT Hub job (the same call for every device, no etag); a call cannot be undone.",
  'per-call':
    'Each module is called on its own (IoT Hub jobs do not reach modules); a call cannot be undone.',
};

/**
 * A rollout's plan in one paragraph: the canary, how waves grow, when a twin succeeds (for a
 * direct method, when it answers), when the rollout stops, and whether an Admin approves.
 */
export function describePlan(plan: RolloutPlan, calls: boolean): string {
  const canary =
    plan.canary.kind === 'count'
      ? `${plan.canary.value} twin(s)`
      : `${plan.canary.value} % of the targets`;
  const success =
    plan.success.kind === 'written'
      ? calls
        ? 'the method answers 2xx'
        : 'the write lands'
      : plan.success.kind === 'mirrors'
        ? `reported properties mirror the change within ${plan.success.timeoutSeconds} s`
        : `"${plan.success.where}" holds within ${plan.success.timeoutSeconds} s`;
  return `A canary of ${canary}, then waves ×${plan.growth} (at most ${plan.maxWaves}). A twin succeeds when ${success}. Stops past ${plan.failureThreshold} % failed in a wave.${plan.approval ? ` An ${APPROVER} approves after the canary.` : ''}`;
}
