import { rolloutWrites } from '../telemetry/instruments.ts';
import type { RolloutTargetState, Twin } from '@twinscope/contract';
import { validateSectionPatch } from '@twinscope/twin';
import { failureOutcome } from '../audit/audited.ts';
import { applyChange, holdsChange, hubPatchOf, type Sections } from './plan.ts';
import { refOf, type RolloutRow, type TargetRow } from './rollout-rows.ts';
import {
  codeOf,
  Halt,
  Later,
  messageOf,
  sectionsOf,
  TRANSIENT,
  versions,
  type Steps,
} from './steps.ts';
import { targetKey, type TargetRef } from './targets.ts';

/** The same write refused this often (its twin changes each time): the target fails. */
const MAX_ATTEMPTS = 5;
/** Chunks of writes in flight at once. */
export const PIPELINES = 3;

/**
 * Writes the change to some targets, each with its own etag, recording first what undoes
 * each write. A write whose outcome was not known (a restart, a timeout) is checked before
 * anything else, so no twin is written twice. The database work is one statement per step
 * for the whole chunk; the hub calls run side by side, paced by the budget. Answers how
 * many writes were sent.
 */
export async function writeChunk(ctx: Steps, row: RolloutRow, chunk: TargetRow[]): Promise<number> {
  const { id, spec } = row;
  const { change } = spec;
  const owner = ctx.replicaId;
  const from = ['pending', 'writing'] as const;
  // 1. Each twin as it is now.
  const read = await Promise.all(
    chunk.map(async (target) => {
      try {
        return {
          target,
          twin: await ctx.hub.getTwin(target.device_id, target.module_id || undefined),
        };
      } catch (error) {
        return { target, error };
      }
    }),
  );
  const skipped: TargetRow[] = [];
  const verdicts: { state: RolloutTargetState; target: TargetRow; error: string | null }[] = [];
  const toWrite: { target: TargetRow; twin: Twin; inverse: Partial<Sections> }[] = [];
  let transient: unknown;
  for (const item of read) {
    const { target } = item;
    if (!('twin' in item) || !item.twin) {
      if (codeOf(item.error) === 'not_found') skipped.push(target);
      else if (TRANSIENT.has(codeOf(item.error))) transient ??= item.error;
      else throw item.error;
      continue;
    }
    const sections = sectionsOf(item.twin);
    if (holdsChange(sections, change)) {
      // Written before the outcome was known, or already so: either way nothing to send.
      verdicts.push({
        state: target.state === 'writing' ? 'written' : 'unchanged',
        target,
        error: null,
      });
      continue;
    }
    const { after, inverse } = applyChange(sections, change);
    const violations = (['tags', 'desired'] as const).flatMap((section) =>
      after[section] ? validateSectionPatch(section, {}, after[section]) : [],
    );
    if (violations.length > 0)
      verdicts.push({
        state: 'failed',
        target,
        error: `The change would break IoT Hub's twin rules on this twin: ${violations[0]!.path}: ${violations[0]!.message}`,
      });
    else if (target.attempts >= MAX_ATTEMPTS)
      verdicts.push({
        state: 'failed',
        target,
        error: `The twin changed under every one of ${MAX_ATTEMPTS} attempts to write it.`,
      });
    else toWrite.push({ target, twin: item.twin, inverse });
  }
  await ctx.store.markMany(
    id,
    owner,
    skipped.map((target) => ({
      target: refOf(target),
      error: `The ${target.module_id ? 'module' : 'device'} no longer exists; nothing was written to it.`,
    })),
    from,
    'skipped',
  );
  for (const state of ['written', 'unchanged', 'failed'] as const) {
    const these = verdicts.filter((v) => v.state === state);
    await ctx.store.markMany(
      id,
      owner,
      these.map((v) => ({ target: refOf(v.target), error: v.error })),
      from,
      state,
    );
  }
  // 2. What undoes each write, stored before it is sent; only while this replica drives a
  // running rollout (a pause stops new writes here).
  const claimed = await ctx.store.markMany(
    id,
    owner,
    toWrite.map(({ target, inverse }) => ({ target: refOf(target), inverse })),
    from,
    'writing',
    { attempt: true, whileStatus: 'running' },
  );
  const sending = toWrite.filter(({ target }) => claimed.has(targetKey(refOf(target))));
  const actor = { id: row.created_by_id, name: row.created_by_name };
  const records = await ctx.audit.beginMany(
    sending.map(({ target, twin, inverse }) => ({
      actor,
      action: 'rollout.write' as const,
      target: { ...refOf(target), rolloutId: id },
      change: change,
      before: versions(twin),
      revert: inverse,
    })),
  );
  const hubPatch = hubPatchOf({
    ...(change.tags ? { tags: change.tags } : {}),
    ...(change.desired ? { desired: change.desired } : {}),
  });
  // 3. The writes, side by side.
  const outcomes = await Promise.all(
    sending.map(async ({ target, twin }) => {
      try {
        const after = await ctx.hub.patchTwin(
          target.device_id,
          target.module_id || undefined,
          hubPatch,
          twin.etag,
        );
        return { target, after };
      } catch (error) {
        return { target, error };
      }
    }),
  );
  await ctx.audit.endMany(
    outcomes.map((outcome, i) => ({
      id: records[i]!.id,
      outcome:
        'after' in outcome && outcome.after
          ? { result: 'succeeded' as const, after: versions(outcome.after) }
          : failureOutcome(outcome.error),
    })),
  );
  // 4. Where each stands now.
  const next = new Map<
    RolloutTargetState,
    { target: TargetRef; error?: string | null; inverse?: null }[]
  >();
  const move = (
    state: RolloutTargetState,
    item: { target: TargetRef; error?: string | null; inverse?: null },
  ) => next.set(state, [...(next.get(state) ?? []), item]);
  let sent = 0;
  for (const outcome of outcomes) {
    const ref = refOf(outcome.target);
    if ('after' in outcome && outcome.after) {
      sent++;
      rolloutWrites('twin', 'written');
      move('written', { target: ref, error: null });
      continue;
    }
    const code = codeOf(outcome.error);
    rolloutWrites('twin', code);
    // Changed between our read and our write: read again and try again (attempts counted).
    if (code === 'conflict') move('pending', { target: ref });
    // Sent, answer unknown: stays `writing`, and is checked before anything else is done.
    else if (code === 'outcome_unknown') transient ??= outcome.error;
    // Never sent (the budget, a 429 past its retries, the hub away): tried again later.
    else if (TRANSIENT.has(code)) {
      move('pending', { target: ref });
      transient ??= outcome.error;
    } else
      // The hub refused it: nothing was written, so nothing is to be undone.
      move(code === 'not_found' ? 'skipped' : 'failed', {
        target: ref,
        inverse: null,
        error:
          code === 'not_found'
            ? 'Deleted before the write reached it; nothing was written.'
            : messageOf(outcome.error),
      });
  }
  for (const [state, items] of next) await ctx.store.markMany(id, owner, items, ['writing'], state);
  if (transient !== undefined) throw new Later(messageOf(transient));
  if (claimed.size < toWrite.length) throw new Halt();
  return sent;
}
