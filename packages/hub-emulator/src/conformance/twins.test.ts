import { describe, expect, it } from 'vitest';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

describe('azure-iothub Registry: device and module twins', () => {
  const hub = useHub();

  async function newDevice(): Promise<string> {
    const deviceId = uniqueId('twin');
    await hub.registry.create({ deviceId });
    return deviceId;
  }

  it('when a device is new, then its twin has identity fields, empty sections at $version 1 and never-updated metadata', async () => {
    const deviceId = await newDevice();
    const { responseBody: twin } = await hub.registry.getTwin(deviceId);
    expect(twin.deviceId).toBe(deviceId);
    expect(twin.etag).toBeTruthy();
    expect(twin.properties.desired).toEqual({
      $metadata: { $lastUpdated: '0001-01-01T00:00:00Z' },
      $version: 1,
    });
    expect(twin.properties.reported).toEqual({
      $metadata: { $lastUpdated: '0001-01-01T00:00:00Z' },
      $version: 1,
    });
    const raw = twin as unknown as Record<string, unknown>;
    expect(raw['connectionState']).toBe('Disconnected');
    expect(raw['status']).toBe('enabled');
    expect(raw['authenticationType']).toBe('sas');
    expect(raw['version']).toBe(1);
  });

  it('when desired properties are patched with the etag, then only $version and the patched keys change', async () => {
    const deviceId = await newDevice();
    const { responseBody: before } = await hub.registry.getTwin(deviceId);
    const { responseBody: first } = await hub.registry.updateTwin(
      deviceId,
      { properties: { desired: { fan: { speed: 1, mode: 'auto' }, keep: true } } },
      before.etag,
    );
    expect(first.properties.desired.$version).toBe(2);
    expect(first.etag).not.toBe(before.etag);

    const { responseBody: second } = await hub.registry.updateTwin(
      deviceId,
      { properties: { desired: { fan: { speed: 2 } } } },
      first.etag,
    );
    type Meta = { $lastUpdatedVersion: number } & Record<string, { $lastUpdatedVersion: number }>;
    const desired = second.properties.desired as Record<string, unknown> & {
      $metadata: Record<string, Meta>;
    };
    expect(desired['fan']).toEqual({ speed: 2, mode: 'auto' });
    expect(desired['keep']).toBe(true);
    expect(desired['$version']).toBe(3);
    expect(desired.$metadata['fan']!['speed']!.$lastUpdatedVersion).toBe(3);
    expect(desired.$metadata['fan']!['mode']!.$lastUpdatedVersion).toBe(2);
    expect(desired.$metadata['keep']!.$lastUpdatedVersion).toBe(2);
    expect((second as unknown as { version: number }).version).toBe(3);
  });

  it('when a patch carries null, then the key is deleted; tags-only patches leave desired $version alone', async () => {
    const deviceId = await newDevice();
    await hub.registry.updateTwin(
      deviceId,
      { tags: { site: 'berlin', floor: 2 }, properties: { desired: { a: 1, b: 2 } } },
      '*',
    );
    const { responseBody: twin } = await hub.registry.updateTwin(
      deviceId,
      { tags: { floor: null }, properties: { desired: { a: null } } },
      '*',
    );
    expect(twin.tags).toEqual({ site: 'berlin' });
    expect(twin.properties.desired['a']).toBeUndefined();
    expect(twin.properties.desired['b']).toBe(2);
    const desiredVersion = twin.properties.desired.$version;
    const { responseBody: tagged } = await hub.registry.updateTwin(
      deviceId,
      { tags: { site: 'lyon' } },
      '*',
    );
    expect(tagged.properties.desired.$version).toBe(desiredVersion);
    expect(tagged.tags).toEqual({ site: 'lyon' });
  });

  it('when two writers hold the same etag, then the second gets InvalidEtagError and nothing of it is applied', async () => {
    const deviceId = await newDevice();
    const { responseBody: seen } = await hub.registry.getTwin(deviceId);
    await hub.registry.updateTwin(
      deviceId,
      { properties: { desired: { owner: 'first' } } },
      seen.etag,
    );
    await expectSdkError(
      hub.registry.updateTwin(
        deviceId,
        { properties: { desired: { owner: 'second', extra: 1 } } },
        seen.etag,
      ),
      'InvalidEtagError',
    );
    const { responseBody: now } = await hub.registry.getTwin(deviceId);
    expect(now.properties.desired['owner']).toBe('first');
    expect(now.properties.desired['extra']).toBeUndefined();
  });

  it('when a patch breaks a twin rule, then ArgumentError names the path and the twin is unchanged', async () => {
    const deviceId = await newDevice();
    const { responseBody: before } = await hub.registry.getTwin(deviceId);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 11; i >= 1; i--) deep = { [`l${i}`]: deep };
    const cases: Record<string, unknown>[] = [
      { properties: { desired: { 'bad.key': 1 } } },
      { tags: { 'with space': 1 } },
      { properties: { desired: deep } },
      { properties: { desired: { big: 4503599627370496 } } },
      { properties: { desired: { text: 'x'.repeat(5000) } } },
      { tags: { a: 'x'.repeat(4000), b: 'x'.repeat(4000), c: 'x'.repeat(300) } },
    ];
    for (const patch of cases) {
      const error = await expectSdkError(
        hub.registry.updateTwin(deviceId, patch, '*'),
        'ArgumentError',
      );
      expect(error.message.length).toBeGreaterThan(10);
    }
    const depthError = await expectSdkError(
      hub.registry.updateTwin(deviceId, { properties: { desired: deep } }, '*'),
      'ArgumentError',
    );
    expect(depthError.message).toContain('properties.desired.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11');
    const { responseBody: after } = await hub.registry.getTwin(deviceId);
    expect(after.etag).toBe(before.etag);
  });

  it('when desired is set to null, then all desired keys are cleared in one version step', async () => {
    const deviceId = await newDevice();
    await hub.registry.updateTwin(
      deviceId,
      { properties: { desired: { a: 1, b: { c: 2 } } } },
      '*',
    );
    const { responseBody } = await hub.registry.updateTwin(
      deviceId,
      { properties: { desired: null } },
      '*',
    );
    expect(Object.keys(responseBody.properties.desired).filter((k) => !k.startsWith('$'))).toEqual(
      [],
    );
    expect(responseBody.properties.desired.$version).toBe(3);
  });

  it('when a twin is replaced with PUT, then tags and desired are exactly the new ones and reported is untouched', async () => {
    const deviceId = await newDevice();
    hub.emulator.registry.patchReported(deviceId, undefined, { firmware: '1.0' });
    const { responseBody: before } = await hub.registry.getTwin(deviceId);
    await hub.registry.updateTwin(
      deviceId,
      { tags: { old: 1 }, properties: { desired: { old: 1 } } },
      before.etag,
    );
    const current = (await hub.registry.getTwin(deviceId)).responseBody;
    const replaced = await hub.raw.send('PUT', `/twins/${deviceId}?api-version=2021-04-12`, {
      body: JSON.stringify({ tags: { fresh: 'yes' }, properties: { desired: { mode: 'eco' } } }),
      headers: { 'If-Match': `"${current.etag}"` },
    });
    expect(replaced.status).toBe(200);
    const twin = replaced.json as {
      tags: object;
      properties: { desired: Record<string, unknown>; reported: Record<string, unknown> };
    };
    expect(twin.tags).toEqual({ fresh: 'yes' });
    expect(twin.properties.desired['old']).toBeUndefined();
    expect(twin.properties.desired['mode']).toBe('eco');
    expect(twin.properties.reported['firmware']).toBe('1.0');
    const stale = await hub.raw.send('PUT', `/twins/${deviceId}?api-version=2021-04-12`, {
      body: JSON.stringify({ tags: {} }),
      headers: { 'If-Match': `"${current.etag}"` },
    });
    expect(stale.status).toBe(412);
  });

  it('when a module twin is patched, then it changes on its own and the device twin does not', async () => {
    const deviceId = await newDevice();
    await hub.registry.addModule({ deviceId, moduleId: 'filter' });
    const { responseBody: moduleTwin } = await hub.registry.getModuleTwin(deviceId, 'filter');
    expect(moduleTwin.moduleId).toBe('filter');
    const { responseBody: deviceBefore } = await hub.registry.getTwin(deviceId);
    const { responseBody: patched } = await hub.registry.updateModuleTwin(
      deviceId,
      'filter',
      { properties: { desired: { threshold: 42 } } },
      moduleTwin.etag,
    );
    expect(patched.properties.desired['threshold']).toBe(42);
    await expectSdkError(
      hub.registry.updateModuleTwin(
        deviceId,
        'filter',
        { properties: { desired: { threshold: 1 } } },
        moduleTwin.etag,
      ),
      'InvalidEtagError',
    );
    expect((await hub.registry.getTwin(deviceId)).responseBody.etag).toBe(deviceBefore.etag);
  });

  it('when a twin changes, then the change log records it in order with the desired patch devices will get', async () => {
    const deviceId = await newDevice();
    const from = hub.emulator.registry.sequenceNumber;
    await hub.registry.updateTwin(deviceId, { properties: { desired: { a: 1, b: 1 } } }, '*');
    await hub.registry.updateTwin(deviceId, { properties: { desired: null } }, '*');
    const events = hub.emulator.changes.since(from);
    expect(events.map((e) => [e.opType, e.deviceId])).toEqual([
      ['updateTwin', deviceId],
      ['updateTwin', deviceId],
    ]);
    expect(events[1]!.sequenceNumber).toBe(events[0]!.sequenceNumber + 1);
    expect(events[1]!.desiredPatch).toEqual({ a: null, b: null, $version: 3 });
  });
});
