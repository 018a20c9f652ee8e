import { waveSizes } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import type { RolloutRow } from './rollout-rows.ts';
import { Later, messageOf, TRANSIENT, type Steps } from './steps.ts';
import { resolveTargets, type TargetRef } from './targets.ts';

/** Finding a rollout's targets and planning its waves, before anything is written. */
/** Finds the targets, plans the waves and starts (or explains why not). */
export async function prepare(ctx: Steps, row: RolloutRow): Promise<void> {
  let targets: TargetRef[];
  try {
    targets = await resolveTargets(ctx.hub, row.spec.filter, row.spec.moduleId);
  } catch (error) {
    if (error instanceof AppError && TRANSIENT.has(error.code))
      throw new Later(`Finding the targets: ${error.message}`);
    await ctx.store.transition(row.id, ['preparing'], 'stopped', {
      owner: ctx.replicaId,
      message: `The targets could not be found: ${messageOf(error)} Nothing was written.`,
    });
    ctx.changed(row.id, true);
    return;
  }
  if (targets.length === 0) {
    await ctx.store.transition(row.id, ['preparing'], 'stopped', {
      owner: ctx.replicaId,
      message: `The filter matched no ${row.spec.moduleId ? `"${row.spec.moduleId}" modules` : 'devices'} when the rollout began. Nothing was written.`,
    });
    ctx.changed(row.id, true);
    return;
  }
  const sizes = waveSizes(targets.length, row.spec.plan);
  const begun = await ctx.store.begin(row.id, ctx.replicaId, targets, sizes);
  if (!begun.started && begun.clash.rollout) {
    const { clash } = begun;
    await ctx.store.transition(row.id, ['preparing'], 'stopped', {
      owner: ctx.replicaId,
      message: `Refused: ${clash.count} of its targets belong to the active rollout "${clash.name}" (${clash.twins.join(', ')}${clash.count > clash.twins.length ? ', …' : ''}). A twin is in one active rollout at a time; wait for it to end, or cancel it. Nothing was written.`,
    });
  }
  ctx.changed(row.id, true);
}
