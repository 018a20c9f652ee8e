import type {
  Rollout,
  RolloutRequest,
  RolloutStatus,
  RolloutTargetState,
} from '@twinscope/contract';
import type { Sections } from './plan.ts';
import type { TargetRef } from './targets.ts';

/** A rollout and its targets as the rollout tables hold them, and as the API shows them. */

/** Rollouts that hold their twins: no other rollout may write them meanwhile. */
export const ACTIVE: readonly RolloutStatus[] = [
  'preparing',
  'running',
  'awaiting_approval',
  'paused',
  'rolling_back',
];
/** Rollouts a replica drives (the others wait for a person). */
export const DRIVEN: readonly RolloutStatus[] = ['preparing', 'running', 'rolling_back'];

export type Spec = Pick<RolloutRequest, 'filter' | 'moduleId' | 'change' | 'plan'>;

export interface RolloutRow {
  id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
  created_by_id: string;
  created_by_name: string;
  spec: Spec;
  status: RolloutStatus;
  message: string | null;
  wave: number;
  waves: number[];
  wave_written_at: Date | null;
  writes_per_second: number | null;
  approved_by: { id: string; name: string; at: string } | null;
  rollback_by: { id: string; name: string; at: string } | null;
  lease_owner: string | null;
}

export interface TargetRow {
  device_id: string;
  module_id: string;
  wave: number;
  state: RolloutTargetState;
  inverse: Partial<Sections> | null;
  job_id: string | null;
  error: string | null;
  attempts: number;
  updated_at: Date;
}

export const refOf = (row: { device_id: string; module_id: string }): TargetRef =>
  row.module_id
    ? { deviceId: row.device_id, moduleId: row.module_id }
    : { deviceId: row.device_id };

/** How a rollout's change is made (see the contract's `writeMode`). */
export const writeModeOf = (spec: Spec): Rollout['writeMode'] =>
  spec.change.method ? (spec.moduleId ? 'per-call' : 'job') : 'per-twin';

/** A rollout as the API shows it, with its counts. */
export function rolloutOf(
  row: RolloutRow,
  counts: { wave: number; state: RolloutTargetState; n: number }[],
  jobs: { wave: number; jobId: string }[] = [],
): Rollout {
  const total: Record<string, number> = {};
  const waveCounts: Record<string, number>[] = row.waves.map(() => ({}));
  let all = 0;
  for (const { wave, state, n } of counts) {
    total[state] = (total[state] ?? 0) + n;
    const perWave = (waveCounts[wave] ??= {});
    perWave[state] = (perWave[state] ?? 0) + n;
    all += n;
  }
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    createdBy: { id: row.created_by_id, name: row.created_by_name },
    filter: row.spec.filter,
    ...(row.spec.moduleId ? { moduleId: row.spec.moduleId } : {}),
    change: row.spec.change,
    plan: row.spec.plan,
    status: row.status,
    ...(row.message ? { message: row.message } : {}),
    wave: row.wave,
    waves: row.waves,
    total: all,
    counts: total,
    waveCounts,
    ...(row.approved_by ? { approvedBy: row.approved_by } : {}),
    writeMode: writeModeOf(row.spec),
    jobs,
    writesPerSecond: row.writes_per_second,
  };
}
