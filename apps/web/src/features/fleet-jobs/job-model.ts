import type { FleetJob, ImportLine } from '@twinscope/contract';

export type FleetJobStatus = FleetJob['status'];

const ENDED: readonly FleetJobStatus[] = ['completed', 'failed', 'cancelled'];

/** Whether the hub is done with a job: it will not move again. */
export const hasEnded = (status: FleetJobStatus) => ENDED.includes(status);

/** How often a job's view asks the hub while the job has not ended. */
export const POLL_MS = 1000;

/** The colour of a job's status badge. */
export const STATUS_COLOR = {
  queued: 'informative',
  running: 'brand',
  completed: 'success',
  failed: 'danger',
  cancelled: 'warning',
  unknown: 'subtle',
} as const satisfies Record<FleetJobStatus, string>;

/** A job's progress as the hub reports it, kept within 0–100. */
export function percentOf(job: Pick<FleetJob, 'progress'>): number {
  return Number.isFinite(job.progress) ? Math.min(100, Math.max(0, Math.round(job.progress))) : 0;
}

/**
 * The recent jobs with one job as it was just seen: in its place, or first when it is new
 * (the BFF keeps 20). The list never carries lines; nothing happens to a list not read yet.
 */
export function withJob(list: FleetJob[] | undefined, job: FleetJob): FleetJob[] | undefined {
  if (list === undefined) return undefined;
  const { items: _items, truncated: _truncated, ...row } = job;
  return list.some((j) => j.jobId === job.jobId)
    ? list.map((j) => (j.jobId === job.jobId ? row : j))
    : [row, ...list].slice(0, 20);
}

/**
 * The lines of an import's outcome to show: every one, or only those that did not succeed
 * (failed, or unknown when the job stopped part way).
 */
export function outcomeLines(items: readonly ImportLine[], onlyFailures: boolean): ImportLine[] {
  return onlyFailures ? items.filter((item) => item.outcome !== 'succeeded') : [...items];
}

const lines = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'line' : 'lines'}`;

/**
 * What an ended import did, in a sentence: how many lines failed, of how many. The hub's
 * outcome is known for the lines listed; when the file had more, the sentence says so.
 */
export function outcomeSummary(job: FleetJob): string | undefined {
  if (job.kind !== 'import' || !hasEnded(job.status)) return undefined;
  const listed = job.items?.length ?? 0;
  const failed = job.failed ?? job.items?.filter((i) => i.outcome === 'failed').length ?? 0;
  const total = job.counts?.lines ?? listed;
  const unknown = job.items?.filter((i) => i.outcome === 'unknown').length ?? 0;
  if (unknown > 0)
    return `${failed.toLocaleString()} failed and ${unknown.toLocaleString()} ${unknown === 1 ? 'is' : 'are'} unknown of ${lines(listed)}: the job did not complete, so a line it did not report may or may not have been applied.`;
  if (job.truncated)
    return `${failed.toLocaleString()} of the first ${lines(listed)} failed (the file had ${lines(total)}; only those listed are followed one by one).`;
  if (failed === 0) return total === 1 ? 'The line succeeded.' : `All ${lines(total)} succeeded.`;
  return `${failed.toLocaleString()} of ${lines(total)} failed.`;
}
