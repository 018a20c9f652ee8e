import {
  POLICY,
  type RolloutPlan,
  type RolloutStatus,
  type RolloutTargetState,
} from '@twinscope/contract';
import type { RolloutRow } from './rollout-rows.ts';
import type { Steps } from './steps.ts';

/** How many targets are in each state: of the wave judged, and of the whole rollout. */
export type StateCounts = Partial<Record<RolloutTargetState, number>>;

export interface WaveVerdict {
  to: RolloutStatus;
  message: string;
  /** The next wave starts. */
  next: boolean;
  /** Past the failure threshold: the rollout stopped by itself. */
  failed: boolean;
}

/**
 * A wave's verdict, once each of its targets has one: stop past the failure threshold,
 * complete after the last wave, wait for an approval after the canary, or go on.
 */
export function judgeWave(input: {
  /** 0: the canary. */
  wave: number;
  waves: number;
  plan: Pick<RolloutPlan, 'failureThreshold' | 'approval'>;
  inWave: StateCounts;
  inRollout: StateCounts;
}): WaveVerdict {
  const { wave, waves, plan, inWave, inRollout } = input;
  const failed = inWave.failed ?? 0;
  const succeeded = inWave.succeeded ?? 0;
  const judged = failed + succeeded;
  const share = judged === 0 ? 0 : (failed / judged) * 100;
  const name = wave === 0 ? 'The canary' : `Wave ${wave + 1}`;
  if (failed > 0 && share > plan.failureThreshold)
    return {
      to: 'stopped',
      next: false,
      failed: true,
      message: `${name} failed on ${failed} of ${judged} twins (${Math.round(share * 10) / 10} %), above the ${plan.failureThreshold} % threshold. The rollout stopped by itself; nothing more is written. Roll back to undo what was written.`,
    };
  if (wave + 1 >= waves) {
    const n = (state: RolloutTargetState) => inRollout[state] ?? 0;
    return {
      to: 'completed',
      next: false,
      failed: false,
      message: `Completed: ${n('succeeded')} twins changed, ${n('unchanged')} already held the change, ${n('failed')} failed, ${n('skipped')} skipped.`,
    };
  }
  if (wave === 0 && plan.approval)
    return {
      to: 'awaiting_approval',
      next: false,
      failed: false,
      message: `The canary passed (${succeeded} succeeded, ${failed} failed). An ${POLICY['rollout.approve'].on.fleet} approves the next waves.`,
    };
  return {
    to: 'running',
    next: true,
    failed: false,
    message: `${name} passed; wave ${wave + 2} of ${waves} is being written.`,
  };
}

/** Judges the rollout's current wave, moves it on, and records the verdict in the audit trail. */
export async function verdict(ctx: Steps, row: RolloutRow): Promise<void> {
  const { id, wave, spec } = row;
  const counts = await ctx.store.counts(id);
  const inWave: StateCounts = {};
  const inRollout: StateCounts = {};
  for (const { wave: at, state, n } of counts) {
    inRollout[state] = (inRollout[state] ?? 0) + n;
    if (at === wave) inWave[state] = (inWave[state] ?? 0) + n;
  }
  const step = judgeWave({ wave, waves: row.waves.length, plan: spec.plan, inWave, inRollout });
  const moved = await ctx.store.transition(id, ['running'], step.to, {
    owner: ctx.replicaId,
    message: step.message,
    ...(step.next ? { wave: wave + 1, waveWrittenAt: null } : {}),
  });
  ctx.changed(id, true);
  if (!moved) return;
  // Each wave's verdict is in the audit trail, on the rollout, as its starter's.
  const record = await ctx.audit.begin({
    actor: { id: row.created_by_id, name: row.created_by_name },
    action: 'rollout.wave',
    target: { deviceId: '', rolloutId: id },
    change: {
      wave: wave + 1,
      of: row.waves.length,
      succeeded: inWave.succeeded ?? 0,
      failed: inWave.failed ?? 0,
      unchanged: inWave.unchanged ?? 0,
      skipped: inWave.skipped ?? 0,
    },
  });
  await record.end(
    step.failed
      ? { result: 'failed', error: { code: 'failure_threshold', message: step.message } }
      : { result: 'succeeded' },
  );
}
