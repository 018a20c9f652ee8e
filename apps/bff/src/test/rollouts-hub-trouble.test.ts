import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '@twinscope/hub-emulator';
import { useStack } from './harness.ts';

import { testPlan } from './fixtures/rollout-plan.ts';

/** The demo fleet's twelve devices, every one a target: a canary of two, then the rest. */
const plan = testPlan({ canary: { kind: 'count', value: 2 }, growth: 5, maxWaves: 3 });

describe('BFF: a rollout while the hub throttles and goes away', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twinscope-rollout-hub-'));
  // A hub that takes 2 twin updates a second, and a BFF that does not know it: every wave
  // runs into 429s, which must slow it down without losing or repeating a write. Writes go
  // 3 at a time, so the rollout is mid-wave when the hub goes away or is paused.
  const throttle = { identity: 6000, query: 6000, twinRead: 1000, twinUpdate: 2 };
  const stack = useStack({
    emulator: { inMemory: false, dataDir, throttle },
    env: {
      TWINSCOPE_ROLLOUT_CHECK_MS: '200',
      TWINSCOPE_ROLLOUT_CONCURRENCY: '3',
      TWINSCOPE_HUB_TIMEOUT_MS: '3000',
    },
  });
  const until = async (id: string, check: (rollout: any) => boolean, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { rollout } = (await stack.api(`/api/rollouts/${id}`)).body;
      if (check(rollout)) return rollout;
      if (Date.now() > end) throw new Error(`rollout is ${rollout.status}: ${rollout.message}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('when the hub throttles mid-wave and then stops answering for a while, then the rollout waits, says why, and completes with every twin written exactly once', async () => {
    const created = await stack.api('/api/rollouts', {
      method: 'POST',
      json: { name: 'Fleet ring tag', filter: {}, change: { tags: { ring: 'r1' } }, plan },
    });
    expect(created.status).toBe(201);
    const id = created.body.rollout.id;
    // Some twins are written; then the hub goes away.
    await until(id, (r) => (r.counts.succeeded ?? 0) + (r.counts.written ?? 0) >= 4);
    const httpsPort = stack.emulator.httpsPort;
    await stack.emulator.close();
    const waiting = await until(id, (r) => /Trying again in/.test(r.message ?? ''), 30_000);
    expect(waiting.status).toBe('running');
    expect(waiting.counts.succeeded + (waiting.counts.written ?? 0)).toBeLessThan(12);
    expect(waiting.message).toMatch(/hub/i);
    stack.emulator = await startEmulator({ dataDir, httpsPort, mqttPort: 0, throttle });
    const done = await until(id, (r) => r.status !== 'running', 90_000);
    expect(done.status, done.message).toBe('completed');
    expect(done.counts).toEqual({ succeeded: 12 });
    // Every twin holds the change, and each was written once: one succeeded write per twin
    // in the audit trail, and any write whose answer was lost was recognised, not repeated.
    const written = new Map<string, number>();
    for await (const entry of stack.bff.audit.all({ kind: 'rollout' })) {
      if (entry.target.rolloutId !== id || entry.action !== 'rollout.write') continue;
      if (entry.result === 'succeeded')
        written.set(entry.target.deviceId, (written.get(entry.target.deviceId) ?? 0) + 1);
    }
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    const query = stack.registry.createQuery("SELECT deviceId FROM devices WHERE tags.ring = 'r1'");
    const { result } = await query.nextAsTwin();
    expect(result).toHaveLength(12);
    expect(stack.logLines.some((line) => line.includes('hub throttled; retrying'))).toBe(true);
  }, 180_000);

  it('when a slow rollout is paused, then nothing more is written until it resumes, and it then completes where it left off', async () => {
    const created = await stack.api('/api/rollouts', {
      method: 'POST',
      json: { name: 'Paused ring', filter: {}, change: { tags: { ring: 'r2' } }, plan },
    });
    const id = created.body.rollout.id;
    await until(id, (r) => (r.counts.succeeded ?? 0) >= 2);
    expect(
      (await stack.api(`/api/rollouts/${id}/pause`, { method: 'POST', json: {} })).status,
    ).toBe(200);
    // Writes in flight finish; then the count stays put.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const paused = (await stack.api(`/api/rollouts/${id}`)).body.rollout;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const still = (await stack.api(`/api/rollouts/${id}`)).body.rollout;
    expect(still.status).toBe('paused');
    expect(still.counts).toEqual(paused.counts);
    expect(still.counts.pending).toBeGreaterThan(0);
    expect(
      (await stack.api(`/api/rollouts/${id}/resume`, { method: 'POST', json: {} })).status,
    ).toBe(200);
    const done = await until(id, (r) => r.status === 'completed', 90_000);
    expect(done.counts).toEqual({ succeeded: 12 });
  }, 120_000);
});
