import { holdsPatch, stripReadOnly } from '@twinscope/twin';
import { holdsCondition } from './dry-run.ts';
import { refOf, type RolloutRow } from './rollout-rows.ts';
import { codeOf, Later, messageOf, pool, TRANSIENT, type Steps } from './steps.ts';
import { meeting, targetKey, type TargetRef } from './targets.ts';

/**
 * Checks the written targets of the wave against the success condition; answers whether
 * every one has a verdict (met, or out of time).
 */
export async function check(ctx: Steps, row: RolloutRow): Promise<boolean> {
  const { id, wave, spec } = row;
  const success = spec.plan.success;
  if (success.kind === 'written') {
    await ctx.store.markAll(id, ctx.replicaId, wave, 'written', 'succeeded', null);
    return true;
  }
  const condition =
    success.kind === 'query'
      ? success.where.trim().replace(/^where\s+/i, '')
      : holdsCondition(
          { desired: spec.change.desired! },
          { tags: 'tags', desired: 'properties.reported' },
        );
  let after: TargetRef | undefined;
  for (;;) {
    const written = await ctx.store.next(id, wave, ['written'], 1000, after);
    if (written.length === 0) break;
    const refs = written.map(refOf);
    let met: Set<string>;
    if (typeof condition === 'string' || 'where' in condition) {
      const where = typeof condition === 'string' ? condition : condition.where;
      try {
        met = await meeting(ctx.hub, refs, where);
      } catch (error) {
        if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
        await ctx.store.transition(id, ['running'], 'stopped', {
          owner: ctx.replicaId,
          message: `The success condition could not be checked: ${messageOf(error)} Nothing more is written.`,
        });
        ctx.changed(id, true);
        return false;
      }
    } else {
      // A change the query language cannot compare: each twin is read instead.
      met = new Set();
      await pool(
        refs,
        async (ref) => {
          const twin = await ctx.hub.getTwin(ref.deviceId, ref.moduleId).catch(() => undefined);
          if (
            twin &&
            holdsPatch(stripReadOnly(twin.properties.reported), spec.change.desired ?? {})
          )
            met.add(targetKey(ref));
        },
        ctx.concurrency,
      );
    }
    for (const ref of refs)
      if (met.has(targetKey(ref)))
        await ctx.store.mark(id, ctx.replicaId, ref, ['written'], 'succeeded', { error: null });
    ctx.changed(id);
    if (written.length < 1000) break;
    after = refs.at(-1);
  }
  const timeout = success.timeoutSeconds * 1000;
  if (Date.now() - row.wave_written_at!.getTime() < timeout) {
    return (await ctx.store.next(id, wave, ['written'], 1)).length === 0;
  }
  await ctx.store.markAll(
    id,
    ctx.replicaId,
    wave,
    'written',
    'failed',
    success.kind === 'mirrors'
      ? `Its reported properties did not mirror the change within ${success.timeoutSeconds} s.`
      : `It did not meet "${success.where}" within ${success.timeoutSeconds} s.`,
  );
  return true;
}
