import type { FleetJob, ImportLine } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { hasEnded, outcomeLines, outcomeSummary, percentOf, withJob } from './job-model.ts';

const by = { id: 'u1', name: 'Ada' };
const job = (jobId: string, extra: Partial<FleetJob> = {}): FleetJob => ({
  jobId,
  kind: 'export',
  status: 'running',
  progress: 40,
  by,
  createdAt: '2025-05-01T10:00:00.000Z',
  ...extra,
});

const outcome: ImportLine[] = [
  { line: 1, deviceId: 'sensor-1', action: 'create', outcome: 'succeeded' },
  {
    line: 2,
    deviceId: 'sensor-2',
    action: 'update',
    outcome: 'failed',
    reason: 'PreconditionFailed',
  },
  { line: 3, deviceId: 'sensor-3', moduleId: 'm', action: 'delete', outcome: 'succeeded' },
  { line: 4, deviceId: '', action: 'refused', reason: 'no id', outcome: 'failed' },
];

const ended = (extra: Partial<FleetJob>) =>
  job('imp', {
    kind: 'import',
    status: 'completed',
    progress: 100,
    counts: { lines: 4, create: 1, update: 1, delete: 1, refused: 1 },
    ...extra,
  });

describe('a bulk job as the console follows it', () => {
  it('when the hub reports completed, failed or cancelled, then the job has ended and is no longer asked for', () => {
    expect(['completed', 'failed', 'cancelled'].every((s) => hasEnded(s as never))).toBe(true);
    expect(['queued', 'running', 'unknown'].some((s) => hasEnded(s as never))).toBe(false);
  });

  it('when the hub reports an odd progress, then the bar stays within 0–100', () => {
    expect(percentOf({ progress: 37.6 })).toBe(38);
    expect(percentOf({ progress: 140 })).toBe(100);
    expect(percentOf({ progress: -3 })).toBe(0);
    expect(percentOf({ progress: Number.NaN })).toBe(0);
  });
});

describe('the recent jobs kept current', () => {
  it('when a listed job is seen again, then it takes its place, without its lines', () => {
    const list = [job('b'), job('a', { status: 'queued', progress: 0 })];
    const seen = ended({ jobId: 'a', items: outcome, truncated: false });
    const next = withJob(list, seen)!;
    expect(next.map((j) => j.jobId)).toEqual(['b', 'a']);
    expect(next[1]).toMatchObject({ status: 'completed', progress: 100 });
    expect(next[1]).not.toHaveProperty('items');
    expect(next[1]).not.toHaveProperty('truncated');
  });

  it('when a job just started is not listed, then it comes first and the list keeps 20', () => {
    const list = Array.from({ length: 20 }, (_, i) => job(`old-${i}`));
    const next = withJob(list, job('new'))!;
    expect(next).toHaveLength(20);
    expect(next[0]!.jobId).toBe('new');
    expect(next.at(-1)!.jobId).toBe('old-18');
  });

  it('when the list was never read, then it is left to be read', () => {
    expect(withJob(undefined, job('new'))).toBeUndefined();
  });
});

describe("an import's outcome", () => {
  it('when only failures are asked for, then only failed lines are listed, refused ones included', () => {
    expect(outcomeLines(outcome, true).map((l) => l.line)).toEqual([2, 4]);
    expect(outcomeLines(outcome, false)).toHaveLength(4);
  });

  it('when lines failed, then the summary says how many of how many', () => {
    expect(outcomeSummary(ended({ items: outcome, failed: 2, truncated: false }))).toBe(
      '2 of 4 lines failed.',
    );
  });

  it('when nothing failed, then the summary says every line succeeded', () => {
    expect(
      outcomeSummary(
        ended({
          items: outcome.slice(0, 1),
          failed: 0,
          counts: { lines: 1, create: 1, update: 0, delete: 0, refused: 0 },
        }),
      ),
    ).toBe('The line succeeded.');
  });

  it('when the file had more lines than are listed, then the summary says the count is of those listed', () => {
    const summary = outcomeSummary(
      ended({
        items: outcome,
        failed: 1,
        truncated: true,
        counts: { lines: 3000, create: 3000, update: 0, delete: 0, refused: 0 },
      }),
    );
    expect(summary).toMatch(/^1 of the first 4 lines failed/);
    expect(summary).toContain('3,000 lines');
  });

  it('when the BFF sent no failed count, then failures are counted from the lines', () => {
    expect(outcomeSummary(ended({ items: outcome, truncated: false }))).toBe(
      '2 of 4 lines failed.',
    );
  });

  it('when the import has not ended, or the job is an export, then there is nothing to sum up', () => {
    expect(outcomeSummary(ended({ status: 'running' }))).toBeUndefined();
    expect(outcomeSummary(job('e', { status: 'completed' }))).toBeUndefined();
  });

  it('when a job stopped part way, then lines it did not report are unknown, said so, and kept with the failures', () => {
    const stopped: FleetJob = {
      jobId: 'j-stopped',
      kind: 'import',
      status: 'failed',
      progress: 40,
      by: { id: 'u', name: 'U' },
      createdAt: '2026-12-07T10:00:00Z',
      counts: { lines: 2, create: 2, update: 0, delete: 0, refused: 0 },
      failed: 1,
      items: [
        { line: 1, deviceId: 'a', action: 'create', outcome: 'failed', reason: 'exists' },
        { line: 2, deviceId: 'b', action: 'create', outcome: 'unknown' },
      ],
    };
    expect(outcomeSummary(stopped)).toMatch(/^1 failed and 1 is unknown of 2 lines/);
    expect(outcomeLines(stopped.items!, true).map((i) => i.deviceId)).toEqual(['a', 'b']);
  });
});
