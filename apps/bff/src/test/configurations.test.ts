import { describe, expect, it } from 'vitest';
import { useStack } from './harness.ts';

describe('BFF: automatic configurations against the emulator', () => {
  const stack = useStack();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 700));
  const put = (id: string, json: unknown) =>
    stack.api(`/api/configurations/${id}`, { method: 'PUT', json });

  it('when an Admin creates a configuration for a site, then its twins get the content, the list counts them, and a preview shows what a condition selects', async () => {
    const preview = await stack.api('/api/configurations/preview', {
      method: 'POST',
      json: { kind: 'device', targetCondition: "tags.site = 'lyon'" },
    });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(4);
    expect(preview.body.sample.map((s: { deviceId: string }) => s.deviceId).sort()).toEqual([
      'lyon-north-gateway-07',
      'lyon-north-meter-08',
      'lyon-south-camera-10',
      'lyon-south-hvac-09',
    ]);

    const created = await put('lyon-telemetry', {
      id: 'lyon-telemetry',
      kind: 'device',
      priority: 10,
      targetCondition: "tags.site = 'lyon'",
      labels: { owner: 'eu-ops' },
      content: { 'properties.desired.telemetry': { intervalSeconds: 15 } },
      metrics: {
        onFirmware2:
          "SELECT deviceId FROM devices WHERE tags.site = 'lyon' AND properties.reported.firmware.version = '2.0.3'",
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.configuration).toMatchObject({ id: 'lyon-telemetry', kind: 'device' });
    await settle();
    const twin = (await stack.registry.getTwin('lyon-north-meter-08')).responseBody as any;
    expect(twin.properties.desired.telemetry).toEqual({ enabled: true, intervalSeconds: 15 });
    expect(twin.configurations).toEqual({ 'lyon-telemetry': { status: 'Applied' } });

    const listed = (await stack.api('/api/configurations')).body.items as any[];
    const lyon = listed.find((c) => c.id === 'lyon-telemetry');
    expect(lyon).toMatchObject({ targetedCount: 4, appliedCount: 4, labels: { owner: 'eu-ops' } });
    expect(lyon.metrics.results.onFirmware2).toBeGreaterThan(0);

    // A change with the etag it was read with; a stale one is a conflict, never an overwrite.
    const changed = await put('lyon-telemetry', {
      ...lyonInput(lyon),
      priority: 20,
      etag: lyon.etag,
    });
    expect(changed.status).toBe(200);
    expect(changed.body.configuration.priority).toBe(20);
    const stale = await put('lyon-telemetry', {
      ...lyonInput(lyon),
      priority: 30,
      etag: lyon.etag,
    });
    expect(stale.status).toBe(412);
    const content = await put('lyon-telemetry', {
      ...lyonInput(lyon),
      content: { 'properties.desired.telemetry': { intervalSeconds: 60 } },
      etag: changed.body.configuration.etag,
    });
    expect(content.status).toBe(400);
    expect(content.body.message).toMatch(/content cannot change/);

    expect(
      (await stack.api('/api/configurations/lyon-telemetry', { method: 'DELETE' })).status,
    ).toBe(204);
    expect((await stack.api('/api/configurations/lyon-telemetry')).status).toBe(404);

    // Each write is in the audit trail, naming the configuration.
    const audit = (await stack.api('/api/audit?kind=configuration')).body.entries as any[];
    const done = audit
      .filter((e) => e.result === 'succeeded')
      .map((e) => [e.action, e.target.configurationId, e.actor.name]);
    expect(done).toEqual([
      ['configuration.delete', 'lyon-telemetry', 'Local operator'],
      ['configuration.update', 'lyon-telemetry', 'Local operator'],
      ['configuration.create', 'lyon-telemetry', 'Local operator'],
    ]);
    expect(audit.find((e) => e.result !== 'succeeded')).toMatchObject({
      action: 'configuration.update',
      error: { code: 'conflict' },
    });
  });

  it('when a configuration is malformed, then it is refused with a clear message and nothing is created', async () => {
    const base = {
      kind: 'device',
      priority: 1,
      targetCondition: '*',
      content: { 'properties.desired.x': 1 },
    };
    for (const [id, body, pattern] of [
      ['Upper', { ...base, id: 'Upper' }, /lower-case/],
      [
        'tags-key',
        { ...base, id: 'tags-key', content: { 'tags.site': 'x' } },
        /properties\.desired/,
      ],
      [
        'bad-key',
        { ...base, id: 'bad-key', content: { 'properties.desired': { 'a b$': 1 } } },
        /twin rules/,
      ],
      ['bad-query', { ...base, id: 'bad-query', targetCondition: "tags.x = = 'y'" }, /refused/],
      [
        'module-from',
        { ...base, id: 'module-from', kind: 'module', targetCondition: "moduleId = 'x'" },
        /FROM devices\.modules/,
      ],
    ] as const) {
      const refused = await put(id, body);
      expect(refused.status, id).toBe(400);
      expect(refused.body.message, id).toMatch(pattern);
    }
    const ids = ((await stack.api('/api/configurations')).body.items as { id: string }[]).map(
      (c) => c.id,
    );
    expect(ids).not.toContain('bad-query');
  });
});

function lyonInput(c: any) {
  return {
    id: c.id,
    kind: c.kind,
    priority: c.priority,
    targetCondition: c.targetCondition,
    labels: c.labels,
    content: c.content,
    metrics: c.metrics.queries,
  };
}
