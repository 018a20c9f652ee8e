import { afterAll, describe, expect, it } from 'vitest';
import { runDevice, runModule, type RunningModule } from '@twinscope/module-simulator';
import { createIotHubAdapter, type IotHubAdapter } from '../adapters/iothub/index.ts';
import { createLogger } from '../log.ts';
import { RolloutStore } from '../rollouts/rollout-store.ts';
import { RolloutDriver } from '../rollouts/driver.ts';
import { RolloutNotices } from '../rollouts/notices.ts';
import { resolveTargets } from '../rollouts/targets.ts';
import { testPlan as plan } from './fixtures/rollout-plan.ts';
import { useStack } from './harness.ts';

describe('BFF: guarded rollouts against the emulator', () => {
  const stack = useStack({ env: { TWINSCOPE_ROLLOUT_CHECK_MS: '200' } });
  const running: RunningModule[] = [];
  let hubAdapter: IotHubAdapter | undefined;
  /** The hub as a second replica reaches it (its own SDK clients). */
  const hub = new Proxy({} as IotHubAdapter, {
    get: (_target, key) => {
      hubAdapter ??= createIotHubAdapter({
        connectionString: stack.emulator.serviceConnectionString,
        ca: stack.emulator.tls.caCert,
        logger: createLogger('error', () => undefined),
      });
      const value = (hubAdapter as any)[key];
      return typeof value === 'function' ? value.bind(hubAdapter) : value;
    },
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((module) => module.stop()));
    await hubAdapter?.close();
  });
  const twin = async (deviceId: string, moduleId?: string) =>
    (moduleId
      ? await stack.registry.getModuleTwin(deviceId, moduleId)
      : await stack.registry.getTwin(deviceId)
    ).responseBody as any;
  const start = async (body: Record<string, unknown>) => {
    const created = await stack.api('/api/rollouts', { method: 'POST', json: body });
    expect(created.status, created.text).toBe(201);
    return created.body.rollout.id as string;
  };
  const until = async (id: string, statuses: string[], timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { rollout } = (await stack.api(`/api/rollouts/${id}`)).body;
      if (statuses.includes(rollout.status)) return rollout;
      if (Date.now() > end)
        throw new Error(`rollout is ${rollout.status} (${rollout.message}), not ${statuses}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const act = (id: string, action: string) =>
    stack.api(`/api/rollouts/${id}/${action}`, { method: 'POST', json: {} });
  const recordsOf = async (id: string, action: string) => {
    const entries = [];
    for await (const entry of stack.bff.audit.all({ kind: 'rollout' }))
      if (entry.target.rolloutId === id && entry.action === action) entries.push(entry);
    return entries;
  };
  const writesTo = (id: string) => recordsOf(id, 'rollout.write');

  it("when a desired change rolls to a site's controllers in two waves, then each module app acknowledges it, the waves pass their condition and every write is audited once", async () => {
    for (const deviceId of ['berlin-b1-gateway-01', 'berlin-b1-hvac-02', 'berlin-b2-hvac-04'])
      running.push(
        await runModule(stack.emulator.identityConnectionString(deviceId, 'controller'), {
          ca: stack.emulator.tls.caCert,
          transport: 'mqtt',
          ports: {
            mqtt: stack.emulator.mqttPort,
            amqp: stack.emulator.amqpsPort,
            https: stack.emulator.httpsPort,
          },
          log: () => undefined,
        }),
      );
    const id = await start({
      name: 'Berlin controllers to comfort',
      filter: { tags: ['site=berlin'] },
      moduleId: 'controller',
      change: { desired: { mode: 'comfort' } },
      plan: plan({ success: { kind: 'mirrors', timeoutSeconds: 20 } }),
    });
    const done = await until(id, ['completed', 'stopped'], 30_000);
    expect(done.status, done.message).toBe('completed');
    expect(done.waves).toEqual([1, 2]);
    expect(done.counts).toEqual({ succeeded: 3 });
    for (const deviceId of ['berlin-b1-gateway-01', 'berlin-b1-hvac-02', 'berlin-b2-hvac-04']) {
      const module = await twin(deviceId, 'controller');
      expect(module.properties.desired.mode).toBe('comfort');
      expect(module.properties.reported.mode).toBe('comfort');
    }
    const writes = await writesTo(id);
    expect(writes.map((w) => w.target.deviceId).sort()).toEqual([
      'berlin-b1-gateway-01',
      'berlin-b1-hvac-02',
      'berlin-b2-hvac-04',
    ]);
    expect(
      writes.every((w) => w.result === 'succeeded' && w.target.moduleId === 'controller'),
    ).toBe(true);
    const targets = (await stack.api(`/api/rollouts/${id}/targets?wave=0`)).body;
    expect(targets.items).toHaveLength(1);
    // Each wave's verdict is recorded too.
    expect((await recordsOf(id, 'rollout.wave')).map((w) => [w.change, w.result])).toEqual([
      [{ wave: 1, of: 2, succeeded: 1, failed: 0, unchanged: 0, skipped: 0 }, 'succeeded'],
      [{ wave: 2, of: 2, succeeded: 2, failed: 0, unchanged: 0, skipped: 0 }, 'succeeded'],
    ]);
  });

  it('when a direct method rolls out, then each wave of devices is one IoT Hub job whose outcomes come per device, modules are called one by one, and there is no rollback', async () => {
    const ports = {
      mqtt: stack.emulator.mqttPort,
      amqp: stack.emulator.amqpsPort,
      https: stack.emulator.httpsPort,
    };
    for (const deviceId of ['paris-01', 'paris-02', 'paris-03', 'paris-04']) {
      await stack.registry.create({ deviceId });
      await stack.registry.updateTwin(deviceId, { tags: { site: 'paris' } }, '*');
      // paris-04 stays offline.
      if (deviceId !== 'paris-04')
        running.push(
          await runDevice(stack.emulator.identityConnectionString(deviceId), {
            ca: stack.emulator.tls.caCert,
            transport: 'mqtt',
            ports,
            log: () => undefined,
          }),
        );
    }
    const id = await start({
      name: 'Ping Paris',
      filter: { tags: ['site=paris'] },
      change: {
        method: { methodName: 'ping', payload: { from: 'rollout' }, responseTimeoutInSeconds: 5 },
      },
      plan: plan({ failureThreshold: 100 }),
    });
    const done = await until(id, ['completed', 'stopped']);
    expect(done.status, done.message).toBe('completed');
    expect(done.writeMode).toBe('job');
    expect(done.counts).toEqual({ succeeded: 3, failed: 1 });
    expect(done.jobs.map((j: { wave: number }) => j.wave)).toEqual([0, 1, 2]);
    // Each job is the hub's own: its devices' outcomes are in devices.jobs.
    for (const { jobId } of done.jobs) {
      const query = stack.registry.createQuery(
        `SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`,
      );
      const { result } = (await query.next()) as { result: unknown[] };
      expect(result.length).toBeGreaterThan(0);
    }
    const failed = (await stack.api(`/api/rollouts/${id}/targets?state=failed`)).body.items;
    expect(failed).toEqual([expect.objectContaining({ deviceId: 'paris-04' })]);
    expect(failed[0].error).toMatch(/paris-04 is not connected/);
    const writes = await writesTo(id);
    expect(writes).toHaveLength(4);
    expect(writes.find((w) => w.target.deviceId === 'paris-01')).toMatchObject({
      result: 'succeeded',
      response: { status: 200, payload: { pong: true, echo: { from: 'rollout' } } },
    });
    const rollback = await act(id, 'rollback');
    expect(rollback.status).toBe(412);
    expect(rollback.body.message).toMatch(/cannot be undone/);

    // Modules: one call each (jobs do not reach modules).
    const modules = await start({
      name: 'Ping Berlin controllers',
      filter: { tags: ['site=berlin'] },
      moduleId: 'controller',
      change: { method: { methodName: 'ping' } },
      plan: plan(),
    });
    const called = await until(modules, ['completed', 'stopped']);
    expect(called.status, called.message).toBe('completed');
    expect(called).toMatchObject({ writeMode: 'per-call', jobs: [], counts: { succeeded: 3 } });
  });

  it('when the success condition cannot be met, then the rollout stops at the canary by itself and the rollback restores the twins, leaving one changed since and saying so', async () => {
    const lyon = [
      'lyon-north-gateway-07',
      'lyon-north-meter-08',
      'lyon-south-hvac-09',
      'lyon-south-camera-10',
    ];
    const originals = new Map(
      await Promise.all(lyon.map(async (d) => [d, await twin(d)] as const)),
    );
    const id = await start({
      name: 'Lyon: an unmeetable condition',
      filter: { tags: ['site=lyon'] },
      change: { tags: { ring: 'canary' }, desired: { telemetry: { intervalSeconds: 5 } } },
      plan: plan({
        canary: { kind: 'count', value: 2 },
        success: { kind: 'query', where: "properties.reported.never = 'true'", timeoutSeconds: 1 },
      }),
    });
    const stopped = await until(id, ['stopped', 'completed']);
    expect(stopped.status).toBe('stopped');
    expect(stopped.message).toMatch(/canary failed on 2 of 2 twins .*above the 0 % threshold/i);
    expect(stopped.counts).toEqual({ failed: 2, pending: 2 });
    const failed = (await stack.api(`/api/rollouts/${id}/targets?state=failed`)).body.items;
    expect(failed[0].error).toMatch(/did not meet/);
    const [verdict] = await recordsOf(id, 'rollout.wave');
    expect(verdict).toMatchObject({
      result: 'failed',
      error: { code: 'failure_threshold', message: expect.stringMatching(/canary failed/) },
    });
    // Someone changes one of the canary's twins since: the rollback leaves that one alone.
    const [kept, restored] = failed.map((t: { deviceId: string }) => t.deviceId);
    await stack.registry.updateTwin(kept, { tags: { ring: 'manual' } }, '*');
    expect((await act(id, 'rollback')).status).toBe(200);
    const back = await until(id, ['rolled_back']);
    expect(back.counts).toMatchObject({ reverted: 1, revert_skipped: 1, pending: 2 });
    expect(back.message).toMatch(/1 twins have their old values again; 1 changed by someone else/);
    const after = await twin(restored);
    expect(after.tags.ring).toBeUndefined();
    expect(after.tags).toEqual(originals.get(restored).tags);
    expect(after.properties.desired.telemetry).toEqual({ enabled: true });
    expect((await twin(kept)).tags.ring).toBe('manual');
    const skipped = (await stack.api(`/api/rollouts/${id}/targets?state=revert_skipped`)).body;
    expect(skipped.items[0].error).toMatch(/tags.ring is now "manual"/);
    // The second wave never started: its twins were never written.
    const reached = failed.map((t: { deviceId: string }) => t.deviceId);
    for (const deviceId of lyon.filter((d) => !reached.includes(d)))
      expect((await twin(deviceId)).version).toBe(originals.get(deviceId).version);
  });

  it('when two rollouts share twins, then the second is refused with the first named; a device deleted mid-rollout is skipped; approval gates the waves after the canary', async () => {
    await stack.registry.create({ deviceId: 'toronto-hq-temp-90' });
    await stack.registry.updateTwin('toronto-hq-temp-90', { tags: { site: 'toronto' } }, '*');
    const first = await start({
      name: 'Toronto owners',
      filter: { tags: ['site=toronto'] },
      change: { tags: { owner: { pager: 'na-ops-oncall' } } },
      plan: plan({ approval: true }),
    });
    const waiting = await until(first, ['awaiting_approval']);
    expect(waiting.counts).toMatchObject({ succeeded: 1, pending: 2 });
    const second = await start({
      name: 'Toronto again',
      filter: { prefix: 'toronto-hq' },
      change: { tags: { x: 1 } },
      plan: plan(),
    });
    const refused = await until(second, ['stopped']);
    expect(refused.message).toMatch(
      /3 of its targets belong to the active rollout "Toronto owners"/,
    );
    expect(refused.total).toBe(0);
    // A device is deleted before the next wave; only an Admin may approve (local mode is one).
    const pending = (await stack.api(`/api/rollouts/${first}/targets?state=pending`)).body.items;
    await stack.registry.delete(pending[0].deviceId);
    expect((await act(first, 'resume')).status).toBe(412);
    expect((await act(first, 'approve')).status).toBe(200);
    const done = await until(first, ['completed']);
    expect(done.counts).toEqual({ succeeded: 2, skipped: 1 });
    expect(done.approvedBy).toMatchObject({ name: expect.any(String) });
    const skipped = (await stack.api(`/api/rollouts/${first}/targets?state=skipped`)).body.items;
    expect(skipped[0]).toMatchObject({ deviceId: pending[0].deviceId });
    expect(skipped[0].error).toMatch(/no longer exists/);
  });

  it('when a rollout is asked for with bad input, then it is refused with the reason before anything is written, or stops by itself saying why', async () => {
    const base = { name: 'Bad', filter: { tags: ['site=lyon'] }, plan: plan() };
    const rules = await stack.api('/api/rollouts', {
      method: 'POST',
      json: { ...base, change: { tags: { 'bad key$': 1 } } },
    });
    expect(rules.status).toBe(400);
    expect(rules.body.message).toMatch(/twin rules/);
    const mirror = await stack.api('/api/rollouts', {
      method: 'POST',
      json: {
        ...base,
        change: { tags: { a: 1 } },
        plan: plan({ success: { kind: 'mirrors', timeoutSeconds: 5 } }),
      },
    });
    expect(mirror.status).toBe(400);
    expect(mirror.body.message).toMatch(/only mirror a desired change/);
    const breakout = await stack.api('/api/rollouts', {
      method: 'POST',
      json: { ...base, filter: { where: "1=1) OR (tags.site = 'x'" }, change: { tags: { a: 1 } } },
    });
    expect(breakout.status).toBe(400);
    const shape = await stack.api('/api/rollouts', {
      method: 'POST',
      json: { ...base, change: { tags: { a: 1 } }, plan: { ...plan(), growth: 0 } },
    });
    expect(shape.status).toBe(400);
    const before = (await stack.bff.audit.search({ kind: 'rollout' }, { limit: 200 })).entries
      .length;

    // Nothing matches: it stops at once, having written nothing.
    const empty = await start({
      ...base,
      filter: { prefix: 'no-such-site-' },
      change: { tags: { a: 1 } },
    });
    expect((await until(empty, ['stopped'])).message).toMatch(
      /matched no devices .* Nothing was written/,
    );
    // A condition the hub's query language refuses: the canary is written, then it stops.
    const refused = await start({
      ...base,
      change: { tags: { checked: 'maybe' } },
      plan: plan({
        success: { kind: 'query', where: 'NO_SUCH_FUNCTION(tags.site)', timeoutSeconds: 5 },
      }),
    });
    const stopped = await until(refused, ['stopped']);
    expect(stopped.message).toMatch(/success condition could not be checked/);
    expect(stopped.counts).toMatchObject({ written: 1, pending: 3 });
    // Only the two rollouts' starts and the canary's write were recorded.
    const after = (await stack.bff.audit.search({ kind: 'rollout' }, { limit: 200 })).entries
      .length;
    expect(after - before).toBe(3);
  });

  it('when the replica driving a rollout dies mid-wave after a write landed but before its outcome was recorded, then another replica takes over once the lease runs out and no twin is written twice', async () => {
    // This BFF's own driver steps aside: replica "a" and replica "b" share its database.
    await stack.bff.rollouts.stop();
    const id = await start({
      name: 'Berlin audit tag',
      filter: { prefix: 'berlin' },
      change: { tags: { audited: 'yes' } },
      plan: plan({ canary: { kind: 'count', value: 6 } }),
    });
    const store = new RolloutStore(stack.bff.db);
    // Replica "a" takes the lease, finds the targets, sends one write and dies before
    // recording its outcome (the write landed: the twin holds the change).
    expect(await store.claim('a', 2, [])).toBe(id);
    const targets = await resolveTargets(hub, { prefix: 'berlin' }, undefined);
    expect(await store.begin(id, 'a', targets, [6])).toEqual({ started: true });
    const [first] = await store.next(id, 0, ['pending'], 1);
    const landed = first!.device_id;
    const beforeWrite = await twin(landed);
    await store.mark(id, 'a', { deviceId: landed }, ['pending'], 'writing', {
      inverse: { tags: { audited: null } },
    });
    await stack.registry.updateTwin(landed, { tags: { audited: 'yes' } }, beforeWrite.etag);
    const versionAfterLanding = (await twin(landed)).version;

    const quiet = createLogger('error', () => undefined);
    const notices = new RolloutNotices(stack.bff.db, quiet);
    await notices.start();
    const b = new RolloutDriver(stack.bff.db, hub, stack.bff.audit, quiet, notices, {
      replicaId: 'b',
      leaseSeconds: 2,
      pollMs: 200,
      checkMs: 200,
    });
    b.start();
    try {
      const done = await until(id, ['completed'], 20_000);
      expect(done.counts).toEqual({ succeeded: 6 });
    } finally {
      await b.stop();
      await notices.stop();
    }
    // The landed write was recognised, not sent again; the five others were written once each.
    expect((await twin(landed)).version).toBe(versionAfterLanding);
    const writes = await writesTo(id);
    expect(writes).toHaveLength(5);
    expect(writes.map((w) => w.target.deviceId)).not.toContain(landed);
    expect(new Set(writes.map((w) => w.target.deviceId)).size).toBe(5);
  });
});
