import { rolloutWrites } from '../telemetry/instruments.ts';
import { randomUUID } from 'node:crypto';
import { jsonOf, objectOf } from '@twinscope/twin';
import { inLists, quote } from '../core/hub-query.ts';
import { refOf, writeModeOf, type RolloutRow, type TargetRow } from './rollout-rows.ts';
import { codeOf, Halt, Later, messageOf, TRANSIENT, type Steps } from './steps.ts';
import { rowsOf, targetKey } from './targets.ts';

/**
 * One step of a direct method rollout. On devices, one IoT Hub job calls a chunk of the
 * wave (an IN list of their ids; the same call for every device, no etag): its id is
 * stored before it is scheduled, so a restart follows it (or schedules it, when it never
 * reached the hub) rather than calling anyone twice; its outcome per device is read from
 * `devices.jobs`. On modules, which jobs do not reach, one call per module, side by side.
 */
export async function callBatch(ctx: Steps, row: RolloutRow, batch: TargetRow[]): Promise<void> {
  const { id, wave, spec } = row;
  const method = spec.change.method!;
  const owner = ctx.replicaId;
  const actor = { id: row.created_by_id, name: row.created_by_name };
  const attempts = (targets: TargetRow[]) =>
    ctx.audit.beginMany(
      targets.map((target) => ({
        actor,
        action: 'rollout.write' as const,
        target: { ...refOf(target), rolloutId: id },
        change: objectOf(jsonOf({ method })),
      })),
    );
  if (writeModeOf(spec) === 'per-call') {
    // A call whose outcome was never recorded is not made again: it is said so.
    const unknown = batch.filter((target) => target.state === 'writing');
    await ctx.store.markMany(
      id,
      owner,
      unknown.map((target) => ({
        target: refOf(target),
        error:
          'The BFF stopped during this call, so whether it ran is unknown; it is not called again.',
      })),
      ['writing'],
      'failed',
    );
    const pending = batch.filter((target) => target.state === 'pending').slice(0, ctx.concurrency);
    const claimed = await ctx.store.markMany(
      id,
      owner,
      pending.map((target) => ({ target: refOf(target) })),
      ['pending'],
      'writing',
      { attempt: true, whileStatus: 'running' },
    );
    const calling = pending.filter((target) => claimed.has(targetKey(refOf(target))));
    await attempts(calling);
    const outcomes = await Promise.all(
      calling.map(async (target) => {
        try {
          return { target, answer: await ctx.hub.invokeMethod(refOf(target), method) };
        } catch (error) {
          return { target, error };
        }
      }),
    );
    for (const outcome of outcomes)
      rolloutWrites('method', 'answer' in outcome ? 'answered' : codeOf(outcome.error));
    await settleCalls(
      ctx,
      row,
      outcomes.map((outcome) =>
        'answer' in outcome && outcome.answer
          ? {
              target: outcome.target,
              status: outcome.answer.status,
              payload: outcome.answer.payload,
            }
          : { target: outcome.target, error: messageOf(outcome.error) },
      ),
    );
    if (claimed.size < pending.length) throw new Halt();
    return;
  }
  // Devices: follow the job in flight, or start one for the next chunk of the wave.
  const inFlight = batch.find((target) => target.state === 'writing' && target.job_id);
  if (inFlight) {
    await followJob(ctx, row, inFlight.job_id!);
    return;
  }
  const pending = batch.filter((target) => target.state === 'pending');
  // As many as one IN list holds under the hub's query length.
  const chunk: TargetRow[] = [];
  let room = 7000;
  for (const target of pending) {
    const length = quote(target.device_id).length + 1;
    if (chunk.length > 0 && length > room) break;
    chunk.push(target);
    room -= length;
  }
  if (chunk.length === 0) return;
  const jobId = `rollout-${id.slice(0, 8)}-w${wave + 1}-${randomUUID().slice(0, 8)}`;
  const claimed = await ctx.store.markMany(
    id,
    owner,
    chunk.map((target) => ({ target: refOf(target) })),
    ['pending'],
    'writing',
    { attempt: true, whileStatus: 'running', jobId },
  );
  if (claimed.size === 0) throw new Halt();
  await attempts(chunk.filter((target) => claimed.has(targetKey(refOf(target)))));
  await ctx.store.transition(id, ['running'], 'running', {
    owner,
    message: `Wave ${wave + 1}: IoT Hub job ${jobId} calls ${method.methodName} on ${claimed.size} devices.`,
  });
  await followJob(ctx, row, jobId);
}

/** Schedules a wave's job if the hub does not have it yet, and reads its outcomes once done. */
async function followJob(ctx: Steps, row: RolloutRow, jobId: string): Promise<void> {
  const { id } = row;
  const method = row.spec.change.method!;
  const targets = await ctx.store.withJob(id, jobId);
  let job: { status: string; failureReason?: string };
  try {
    job = await ctx.hub.getJob(jobId);
  } catch (error) {
    if (codeOf(error) !== 'not_found') {
      if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
      throw error;
    }
    // Never reached the hub (the BFF stopped first): scheduled now, under the same id.
    const [list] = inLists(
      targets.map((target) => target.device_id),
      7500,
    );
    try {
      await ctx.hub.scheduleMethodJob(
        jobId,
        `deviceId IN ${list}`,
        method,
        Math.max(60, (method.responseTimeoutInSeconds + method.connectTimeoutInSeconds) * 4),
      );
    } catch (refused) {
      if (TRANSIENT.has(codeOf(refused))) throw new Later(messageOf(refused));
      // The hub refused the job: nobody was called.
      await settleCalls(
        ctx,
        row,
        targets.map((target) => ({
          target,
          error: `The hub refused the job: ${messageOf(refused)}`,
        })),
      );
      return;
    }
    ctx.changed(id, true);
    await ctx.rest(ctx.checkMs);
    return;
  }
  if (!['completed', 'failed', 'cancelled'].includes(job.status)) {
    await ctx.rest(ctx.checkMs);
    return;
  }
  const outcomes = new Map<string, { status?: number; payload?: unknown; error?: string }>();
  try {
    for await (const device of rowsOf(
      ctx.hub,
      `SELECT * FROM devices.jobs WHERE devices.jobs.jobId = ${quote(jobId)}`,
    )) {
      const response = (
        device['outcome'] as
          { deviceMethodResponse?: { status: number; payload: unknown } } | undefined
      )?.deviceMethodResponse;
      const failure = device['error'] as { code?: string; description?: string } | undefined;
      outcomes.set(
        String(device['deviceId']),
        response
          ? { status: response.status, payload: response.payload }
          : {
              error:
                failure?.description ??
                `The job ended ${String(device['status'])} for this device.`,
            },
      );
    }
  } catch (error) {
    if (TRANSIENT.has(codeOf(error))) throw new Later(messageOf(error));
    throw error;
  }
  await settleCalls(
    ctx,
    row,
    targets.map((target) => ({
      target,
      ...(outcomes.get(target.device_id) ?? {
        error: `The job ended ${job.status}${job.failureReason ? ` (${job.failureReason})` : ''} before calling this device.`,
      }),
    })),
  );
}

/** Records each call's outcome: 2xx is written (then judged by the condition), else failed. */
async function settleCalls(
  ctx: Steps,
  row: RolloutRow,
  results: { target: TargetRow; status?: number; payload?: unknown; error?: string }[],
): Promise<void> {
  const ok = (r: (typeof results)[number]) =>
    r.status !== undefined && r.status >= 200 && r.status < 300;
  const why = (r: (typeof results)[number]) =>
    r.error ??
    `The method answered ${r.status}${r.payload === undefined || r.payload === null ? '' : `: ${JSON.stringify(r.payload).slice(0, 200)}`}.`;
  await ctx.audit.endMany(
    results.map((r) => ({
      rolloutId: row.id,
      ...refOf(r.target),
      // The call was made once the device answered, whatever its status (as for one person's call).
      outcome:
        r.status !== undefined
          ? {
              result: 'succeeded',
              response: { status: r.status, payload: r.payload ?? null },
            }
          : { result: 'failed', error: { code: 'hub_error', message: why(r) } },
    })),
  );
  await ctx.store.markMany(
    row.id,
    ctx.replicaId,
    results.filter(ok).map((r) => ({ target: refOf(r.target), error: null })),
    ['writing'],
    'written',
  );
  await ctx.store.markMany(
    row.id,
    ctx.replicaId,
    results.filter((r) => !ok(r)).map((r) => ({ target: refOf(r.target), error: why(r) })),
    ['writing'],
    'failed',
  );
}
