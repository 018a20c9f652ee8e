import { describe, expect, it } from 'vitest';
import { judgeWave } from './verdict.ts';

const plan = { failureThreshold: 10, approval: false };

describe("a wave's verdict", () => {
  it('when failures stay within the threshold, then the next wave starts', () => {
    const verdict = judgeWave({
      wave: 1,
      waves: 4,
      plan,
      inWave: { succeeded: 19, failed: 1 },
      inRollout: { succeeded: 20, failed: 1, pending: 30 },
    });
    expect(verdict).toMatchObject({ to: 'running', next: true, failed: false });
    expect(verdict.message).toBe('Wave 2 passed; wave 3 of 4 is being written.');
  });

  it('when failures pass the threshold, then the rollout stops by itself and says by how much', () => {
    const verdict = judgeWave({
      wave: 0,
      waves: 4,
      plan,
      inWave: { succeeded: 2, failed: 1, unchanged: 5 },
      inRollout: { succeeded: 2, failed: 1, unchanged: 5, pending: 40 },
    });
    expect(verdict).toMatchObject({ to: 'stopped', next: false, failed: true });
    expect(verdict.message).toMatch(
      /^The canary failed on 1 of 3 twins \(33\.3 %\), above the 10 % threshold\./,
    );
  });

  it('when a threshold of 0 meets no failure, then it passes (twins that already held it are not judged)', () => {
    const verdict = judgeWave({
      wave: 0,
      waves: 2,
      plan: { failureThreshold: 0, approval: false },
      inWave: { unchanged: 3 },
      inRollout: { unchanged: 3, pending: 9 },
    });
    expect(verdict.to).toBe('running');
  });

  it('when the canary passes and the plan asks for approval, then it waits for the role the policy names', () => {
    const verdict = judgeWave({
      wave: 0,
      waves: 3,
      plan: { failureThreshold: 0, approval: true },
      inWave: { succeeded: 1 },
      inRollout: { succeeded: 1, pending: 7 },
    });
    expect(verdict).toMatchObject({ to: 'awaiting_approval', next: false });
    expect(verdict.message).toBe(
      'The canary passed (1 succeeded, 0 failed). An Admin approves the next waves.',
    );
  });

  it('when the last wave passes, then the rollout completes with the whole count', () => {
    const verdict = judgeWave({
      wave: 2,
      waves: 3,
      plan: { failureThreshold: 50, approval: true },
      inWave: { succeeded: 4, failed: 1 },
      inRollout: { succeeded: 10, failed: 1, unchanged: 2, skipped: 1 },
    });
    expect(verdict).toMatchObject({ to: 'completed', failed: false });
    expect(verdict.message).toBe(
      'Completed: 10 twins changed, 2 already held the change, 1 failed, 1 skipped.',
    );
  });
});
