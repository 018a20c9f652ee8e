import { describe, expect, it } from 'vitest';
import { useStack } from './harness.ts';

describe('BFF: safe twin edits', () => {
  const stack = useStack();

  async function twinOf(path: string) {
    return (await stack.api(path)).body.twin;
  }

  it('when desired and tags are patched with the etag, then the hub holds exactly that and devices get only the changed key', async () => {
    const before = await twinOf('/api/devices/lyon-north-meter-08');
    const from = stack.emulator.registry.sequenceNumber;
    const response = await stack.api('/api/devices/lyon-north-meter-08/twin', {
      method: 'PATCH',
      json: {
        etag: before.etag,
        tags: { floor: 3 },
        desired: { telemetry: { intervalSeconds: 60 } },
      },
    });
    expect(response.status).toBe(200);
    const { responseBody: hubTwin } = await stack.registry.getTwin('lyon-north-meter-08');
    expect(hubTwin.tags).toMatchObject({ floor: 3, site: 'lyon' });
    expect(hubTwin.properties.desired['telemetry']).toEqual({ enabled: true, intervalSeconds: 60 });
    expect(hubTwin.properties.desired.$version).toBe(before.properties.desired.$version + 1);
    const [change] = stack.emulator.changes.since(from);
    expect(change?.desiredPatch).toEqual({
      telemetry: { intervalSeconds: 60 },
      $version: before.properties.desired.$version + 1,
    });
    expect(response.body.twin.etag).toBe(hubTwin.etag);
  });

  it('when a key is set to null, then it is removed on the hub', async () => {
    const before = await twinOf('/api/devices/lyon-north-meter-08');
    await stack.api('/api/devices/lyon-north-meter-08/twin', {
      method: 'PATCH',
      json: { etag: before.etag, tags: { floor: null } },
    });
    const { responseBody } = await stack.registry.getTwin('lyon-north-meter-08');
    expect(responseBody.tags['floor']).toBeUndefined();
  });

  it('when the etag is stale, then 412 carries the current twin and nothing is applied', async () => {
    const seen = await twinOf('/api/devices/lyon-south-hvac-09');
    await stack.registry.updateTwin(
      'lyon-south-hvac-09',
      { properties: { desired: { fromElsewhere: 1 } } },
      '*',
    );
    const response = await stack.api('/api/devices/lyon-south-hvac-09/twin', {
      method: 'PATCH',
      json: { etag: seen.etag, desired: { mine: 1 } },
    });
    expect(response.status).toBe(412);
    expect(response.body.code).toBe('conflict');
    expect(response.body.current.properties.desired.fromElsewhere).toBe(1);
    expect(response.body.current.etag).not.toBe(seen.etag);
    const { responseBody } = await stack.registry.getTwin('lyon-south-hvac-09');
    expect(responseBody.properties.desired['mine']).toBeUndefined();
  });

  it('when a patch breaks twin rules, then 400 lists each violation with its path and the hub is untouched', async () => {
    const before = await twinOf('/api/devices/toronto-hq-hvac-12');
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 11; i >= 1; i--) deep = { [`l${i}`]: deep };
    const response = await stack.api('/api/devices/toronto-hq-hvac-12/twin', {
      method: 'PATCH',
      json: { etag: before.etag, tags: { 'bad.key': 1 }, desired: deep },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('twin_rule_violation');
    expect(response.body.violations.map((v: { path: string }) => v.path)).toEqual([
      'tags["bad.key"]',
      'properties.desired.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11',
    ]);
    expect((await stack.registry.getTwin('toronto-hq-hvac-12')).responseBody.etag).toBe(
      before.etag,
    );
  });

  it('when a patch touches reported or $metadata, or lacks an etag, then it is refused', async () => {
    const before = await twinOf('/api/devices/toronto-hq-hvac-12');
    const path = '/api/devices/toronto-hq-hvac-12/twin';
    const reported = await stack.api(path, {
      method: 'PATCH',
      json: { etag: before.etag, reported: { x: 1 } },
    });
    expect(reported.status).toBe(400);
    expect(reported.body.message).toMatch(/reported/);
    const nested = await stack.api(path, {
      method: 'PATCH',
      json: { etag: before.etag, properties: { reported: { x: 1 } } },
    });
    expect(nested.status).toBe(400);
    const metadata = await stack.api(path, {
      method: 'PATCH',
      json: { etag: before.etag, desired: { $metadata: {} } },
    });
    expect(metadata.body.code).toBe('twin_rule_violation');
    const noEtag = await stack.api(path, { method: 'PATCH', json: { desired: { a: 1 } } });
    expect(noEtag.status).toBe(400);
    expect(noEtag.body.message).toMatch(/etag/);
    expect((await stack.registry.getTwin('toronto-hq-hvac-12')).responseBody.etag).toBe(
      before.etag,
    );
  });

  it('when the body is malformed, oversized or not JSON, then 400/413/415', async () => {
    const path = '/api/devices/toronto-hq-hvac-12/twin';
    const malformed = await stack.api(path, {
      method: 'PATCH',
      body: '{"etag": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('bad_request');
    const huge = await stack.api(path, {
      method: 'PATCH',
      json: { etag: 'x', desired: { blob: 'x'.repeat(300 * 1024) } },
    });
    expect(huge.status).toBe(413);
    const form = await stack.api(path, {
      method: 'PATCH',
      body: 'etag=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    for (const response of [malformed, huge, form])
      expect(response.text).not.toMatch(/at \S+\.ts:\d+/);
  });

  it('when a module twin is replaced, then tags and desired are exactly the new ones, sent as a minimal patch', async () => {
    const path = '/api/devices/lyon-north-gateway-07/modules/controller';
    const before = (await stack.api(path)).body.twin;
    const from = stack.emulator.registry.sequenceNumber;
    const response = await stack.api(`${path}/twin`, {
      method: 'PUT',
      json: {
        etag: before.etag,
        tags: { owner: 'ops' },
        desired: { mode: 'forward', setpoint: { celsius: 19 } },
      },
    });
    expect(response.status).toBe(200);
    const { responseBody } = await stack.registry.getModuleTwin(
      'lyon-north-gateway-07',
      'controller',
    );
    expect(responseBody.tags).toEqual({ owner: 'ops' });
    expect(responseBody.properties.desired['setpoint']).toEqual({ celsius: 19 });
    const [change] = stack.emulator.changes.since(from);
    expect(change?.desiredPatch).toEqual({
      setpoint: { celsius: 19 },
      $version: before.properties.desired.$version + 1,
    });
  });
});
