import { describe, expect, it } from 'vitest';
import { useStack } from './harness.ts';

describe('BFF: a rollout dry run against the emulator', () => {
  const stack = useStack();
  const dryRun = (json: unknown) => stack.api('/api/rollouts/dry-run', { method: 'POST', json });

  it('when a change is dry-run over a site, then it counts the targets, those that already hold it, and shows some before and after, writing nothing', async () => {
    const filter = { tags: ['site=berlin'] };
    // Every demo device already has telemetry enabled.
    const held = await dryRun({ filter, change: { desired: { telemetry: { enabled: true } } } });
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ targets: 6, unchanged: 6, willChange: 0, sample: [] });

    for (const deviceId of ['berlin-b1-hvac-02', 'berlin-b2-hvac-04'])
      await stack.registry.updateTwin(deviceId, { tags: { wave: 'canary' } }, '*');
    const before = (await stack.registry.getTwin('berlin-b1-meter-03')).responseBody as any;
    const tagged = await dryRun({ filter, change: { tags: { wave: 'canary' } } });
    expect(tagged.body).toMatchObject({ targets: 6, unchanged: 2, willChange: 4 });
    expect(tagged.body.sample).toHaveLength(4);
    const meter = tagged.body.sample.find(
      (s: { deviceId: string }) => s.deviceId === 'berlin-b1-meter-03',
    );
    expect(meter.before.tags).toEqual(before.tags);
    expect(meter.after.tags).toEqual({ ...before.tags, wave: 'canary' });
    expect(tagged.body.estimate).toEqual({ twinUpdatesPerSecond: null, seconds: null, queries: 3 });
    // Nothing was written.
    expect(((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody as any).version).toBe(
      before.version,
    );
  });

  it("when the change is for a module of the filter's devices, then the module twins are counted and sampled", async () => {
    const filter = { tags: ['site=berlin'] };
    const eco = await dryRun({
      filter,
      moduleId: 'controller',
      change: { desired: { mode: 'eco' } },
    });
    expect(eco.status).toBe(200);
    // Berlin has three controllers: the two on HVAC devices already run "eco".
    expect(eco.body).toMatchObject({ targets: 3, unchanged: 2, willChange: 1 });
    expect(eco.body.sample).toEqual([
      {
        deviceId: 'berlin-b1-gateway-01',
        moduleId: 'controller',
        before: { desired: { mode: 'forward', setpoint: { celsius: 21.5 } } },
        after: { desired: { mode: 'eco', setpoint: { celsius: 21.5 } } },
      },
    ]);
    // A direct method has no before and after: every target would be called.
    const call = await dryRun({ filter, change: { method: { methodName: 'reboot' } } });
    expect(call.body).toMatchObject({ targets: 6, unchanged: 0, willChange: 6, sample: [] });
    const mixed = await dryRun({
      filter,
      change: { tags: { a: 1 }, method: { methodName: 'reboot' } },
    });
    expect(mixed.status).toBe(400);
    const none = await dryRun({ filter, moduleId: 'no-such-module', change: { tags: { a: 1 } } });
    expect(none.body).toMatchObject({ targets: 0, willChange: 0, sample: [] });
  });

  it('when a change breaks the twin rules or a filter would break out of its clause, then 400 with the reason', async () => {
    const rules = await dryRun({ filter: {}, change: { tags: { 'bad key$': 1 } } });
    expect(rules.status).toBe(400);
    expect(rules.body.message).toMatch(/twin rules/);
    const where = await dryRun({ filter: { where: '1=1) OR (1=1' }, change: { tags: { a: 1 } } });
    expect(where.status).toBe(400);
    expect((await dryRun({ filter: {}, change: {} })).status).toBe(400);
  });
});
