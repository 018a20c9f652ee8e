import {
  ROLLOUT_ACTIONS,
  type Rollout,
  type RolloutAction,
  type RolloutStatus,
  type RolloutTargetState,
} from '@twinscope/contract';

/** Each status in words, and how it is coloured. */
export const STATUS: Record<
  RolloutStatus,
  { label: string; color: 'brand' | 'success' | 'danger' | 'warning' | 'informative' | 'subtle' }
> = {
  preparing: { label: 'Preparing', color: 'informative' },
  running: { label: 'Running', color: 'brand' },
  awaiting_approval: { label: 'Awaiting approval', color: 'warning' },
  paused: { label: 'Paused', color: 'warning' },
  stopped: { label: 'Stopped', color: 'danger' },
  cancelled: { label: 'Cancelled', color: 'subtle' },
  completed: { label: 'Completed', color: 'success' },
  rolling_back: { label: 'Rolling back', color: 'brand' },
  rolled_back: { label: 'Rolled back', color: 'subtle' },
};

export const TARGET_STATES: { state: RolloutTargetState; label: string }[] = [
  { state: 'pending', label: 'Not written yet' },
  { state: 'writing', label: 'Being written' },
  { state: 'written', label: 'Written, checking' },
  { state: 'succeeded', label: 'Succeeded' },
  { state: 'unchanged', label: 'Already held it' },
  { state: 'failed', label: 'Failed' },
  { state: 'skipped', label: 'Skipped' },
  { state: 'reverted', label: 'Rolled back' },
  { state: 'revert_skipped', label: 'Changed since, left' },
];

/** Targets that are done with (whatever the outcome), out of all. */
export function progressOf(rollout: Rollout): { done: number; total: number } {
  const open =
    (rollout.counts['pending'] ?? 0) +
    (rollout.counts['writing'] ?? 0) +
    (rollout.counts['written'] ?? 0);
  return { done: rollout.total - open, total: rollout.total };
}

/** What a person may do to a rollout now (the BFF's own rules). */
export function actionsFor(status: RolloutStatus): Record<RolloutAction, boolean> {
  const may = (action: RolloutAction) => ROLLOUT_ACTIONS[action].from.includes(status);
  return {
    approve: may('approve'),
    pause: may('pause'),
    resume: may('resume'),
    cancel: may('cancel'),
    rollback: may('rollback'),
  };
}
