import { callBatch } from './method-wave.ts';
import type { RolloutRow, TargetRow } from './rollout-rows.ts';
import { BATCH, Later, pool, type Steps } from './steps.ts';
import { check } from './success.ts';
import { verdict } from './verdict.ts';
import { PIPELINES, writeChunk } from './write-wave.ts';

/** One step of a wave: its writes or calls, then checks of its success condition, then its verdict. */
/** One step of the current wave: a batch of writes, or a round of checks, or its verdict. */
export async function runWave(
  ctx: Steps,
  row: RolloutRow,
  lease: { held: boolean },
): Promise<void> {
  const { id, wave } = row;
  const batch = await ctx.store.next(id, wave, ['writing', 'pending'], BATCH);
  if (batch.length > 0 && row.spec.change.method) {
    await callBatch(ctx, row, batch);
    ctx.changed(id, true);
    return;
  }
  if (batch.length > 0) {
    const started = Date.now();
    const wrote = { n: 0 };
    // `concurrency` writes in flight in all, in a few chunks side by side.
    const size = Math.max(1, Math.ceil(ctx.concurrency / PIPELINES));
    const chunks: TargetRow[][] = [];
    for (let at = 0; at < batch.length; at += size) chunks.push(batch.slice(at, at + size));
    // A few chunks at once: one's database steps overlap another's hub calls, so the
    // writes keep to the budget's pace.
    await pool(
      chunks,
      async (chunk) => {
        if (!lease.held) throw new Later('This replica no longer drives the rollout.');
        wrote.n += await writeChunk(ctx, row, chunk);
        ctx.changed(id);
      },
      PIPELINES,
    );
    const seconds = (Date.now() - started) / 1000;
    if (wrote.n >= 20 && seconds > 0)
      await ctx.store.transition(id, ['running'], 'running', {
        owner: ctx.replicaId,
        writesPerSecond: Math.round((wrote.n / seconds) * 10) / 10,
      });
    ctx.changed(id, true);
    return;
  }
  if (!row.wave_written_at) {
    await ctx.store.transition(id, ['running'], 'running', {
      owner: ctx.replicaId,
      waveWrittenAt: 'now',
      message: `Wave ${wave + 1} is written; checking the success condition.`,
    });
    ctx.changed(id, true);
    return;
  }
  if (!(await check(ctx, row))) {
    await ctx.rest(ctx.checkMs);
    return;
  }
  await verdict(ctx, row);
}
