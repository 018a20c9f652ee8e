import type { RolloutTargetState, Twin } from '@twinscope/contract';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import { firstDifference, holdsChange, hubPatchOf } from './plan.ts';
import { refOf, type RolloutRow, type TargetRow } from './rollout-rows.ts';
import {
  BATCH,
  codeOf,
  Halt,
  Later,
  messageOf,
  pool,
  sectionsOf,
  TRANSIENT,
  versions,
  type Steps,
} from './steps.ts';

/**
 * One batch of the rollback: each written twin gets its inverse patch with a fresh etag,
 * unless someone changed what the rollout wrote since (then it is left, and listed).
 */
export async function rollBack(
  ctx: Steps,
  row: RolloutRow,
  lease: { held: boolean },
): Promise<void> {
  const { id } = row;
  // Every target something was written to (or may have been): it has what undoes it.
  const undoable = await ctx.store.next(
    id,
    undefined,
    ['writing', 'written', 'succeeded', 'failed'],
    BATCH,
    undefined,
    true,
  );
  if (undoable.length === 0) {
    const counts = await ctx.store.counts(id);
    const sum = (state: RolloutTargetState) =>
      counts.filter((c) => c.state === state).reduce((a, c) => a + c.n, 0);
    const kept = sum('revert_skipped');
    await ctx.store.transition(id, ['rolling_back'], 'rolled_back', {
      owner: ctx.replicaId,
      message: `Rolled back: ${sum('reverted')} twins have their old values again${kept > 0 ? `; ${kept} changed by someone else since were left as they are (listed below)` : ''}.`,
    });
    ctx.changed(id, true);
    return;
  }
  const actor = row.rollback_by ?? { id: row.created_by_id, name: row.created_by_name };
  await pool(
    undoable,
    async (target) => {
      if (!lease.held) throw new Later('This replica no longer drives the rollout.');
      await revert(ctx, row, target, { id: actor.id, name: actor.name });
      ctx.changed(id);
    },
    ctx.concurrency,
  );
  ctx.changed(id, true);
}

async function revert(ctx: Steps, row: RolloutRow, target: TargetRow, actor: Actor): Promise<void> {
  const ref = refOf(target);
  const from = [target.state];
  let twin: Twin;
  try {
    twin = await ctx.hub.getTwin(ref.deviceId, ref.moduleId);
  } catch (error) {
    if (codeOf(error) === 'not_found') {
      await ctx.store.mark(row.id, ctx.replicaId, ref, from, 'revert_skipped', {
        error: `The ${ref.moduleId ? 'module' : 'device'} no longer exists.`,
      });
      return;
    }
    if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
    throw error;
  }
  const sections = sectionsOf(twin);
  const { change } = row.spec;
  if (!holdsChange(sections, change)) {
    if (target.state === 'writing') {
      // The write never landed: there is nothing to undo.
      await ctx.store.mark(row.id, ctx.replicaId, ref, from, 'pending', {
        inverse: null,
        error: null,
      });
      return;
    }
    const difference =
      (change.tags && firstDifference(sections.tags, change.tags, 'tags')) ||
      (change.desired && firstDifference(sections.desired, change.desired, 'properties.desired'));
    await ctx.store.mark(row.id, ctx.replicaId, ref, from, 'revert_skipped', {
      error: `Changed by someone else since the rollout wrote it (${difference || 'it differs'}); left as it is.`,
    });
    return;
  }
  const inverse = target.inverse!;
  if (
    !(await ctx.store.mark(row.id, ctx.replicaId, ref, from, target.state, {
      whileStatus: 'rolling_back',
    }))
  )
    throw new Halt();
  try {
    await audited(
      ctx.audit,
      {
        actor,
        action: 'rollout.revert',
        target: { ...ref, rolloutId: row.id },
        change: inverse,
        before: versions(twin),
        revert: change,
      },
      () => ctx.hub.patchTwin(ref.deviceId, ref.moduleId, hubPatchOf(inverse), twin.etag),
      versions,
    );
  } catch (error) {
    const code = codeOf(error);
    // Changed between our read and our write: the next batch reads it again.
    if (code === 'conflict') return;
    if (TRANSIENT.has(code)) throw new Later(messageOf(error));
    await ctx.store.mark(row.id, ctx.replicaId, ref, from, 'revert_skipped', {
      error: `The hub refused the rollback write: ${messageOf(error)}`,
    });
    return;
  }
  await ctx.store.mark(row.id, ctx.replicaId, ref, from, 'reverted', { error: null });
}
