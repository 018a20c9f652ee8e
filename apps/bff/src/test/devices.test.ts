import { describe, expect, it } from 'vitest';
import { runModule } from '@twinscope/module-simulator';
import { useStack } from './harness.ts';

describe('BFF: browsing devices and modules through azure-iothub', () => {
  const stack = useStack();

  it('when the device list is paged, then pages follow the continuation to the end with a total count', async () => {
    const first = await stack.api('/api/devices?pageSize=5');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(5);
    expect(first.body.totalCount).toBe(12);
    expect(first.body.query).toBe('SELECT * FROM devices');
    const seen = first.body.items.map((d: { deviceId: string }) => d.deviceId);
    let continuation = first.body.continuation;
    while (continuation) {
      const next = await stack.api(
        `/api/devices?pageSize=5&continuation=${encodeURIComponent(continuation)}`,
      );
      expect(next.body.totalCount).toBeUndefined();
      seen.push(...next.body.items.map((d: { deviceId: string }) => d.deviceId));
      continuation = next.body.continuation;
    }
    expect(new Set(seen).size).toBe(12);
  });

  it('when filtering by prefix, tags and a raw WHERE clause, then only matching devices come back', async () => {
    const byPrefix = await stack.api('/api/devices?prefix=lyon-');
    expect(byPrefix.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'lyon-north-gateway-07',
      'lyon-north-meter-08',
      'lyon-south-hvac-09',
      'lyon-south-camera-10',
    ]);
    const byTags = await stack.api('/api/devices?tag=site%3Dberlin&tag=role%3Dhvac');
    expect(byTags.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'berlin-b1-hvac-02',
      'berlin-b2-hvac-04',
    ]);
    expect(byTags.body.totalCount).toBe(2);
    const nested = await stack.api(`/api/devices?tag=${encodeURIComponent('owner.team=na-ops')}`);
    expect(nested.body.totalCount).toBe(2);
    const raw = await stack.api(
      `/api/devices?where=${encodeURIComponent("properties.reported.firmware.version = '1.9.0'")}`,
    );
    expect(raw.body.totalCount).toBe(4);
  });

  it('when a device row is listed, then it carries tags, connection state and its module count', async () => {
    const { body } = await stack.api('/api/devices?prefix=berlin-b1-gateway');
    expect(body.items[0]).toMatchObject({
      deviceId: 'berlin-b1-gateway-01',
      connectionState: 'Disconnected',
      status: 'enabled',
      moduleCount: 4,
      modulesConnected: 0,
      tags: { site: 'berlin', building: 'b1', role: 'gateway' },
    });
  });

  it("when one of a device's two modules is connected, then its row says 1 of 2", async () => {
    await stack.registry.create({ deviceId: 'count-dev-01' });
    await stack.registry.addModule({ deviceId: 'count-dev-01', moduleId: 'a' });
    await stack.registry.addModule({ deviceId: 'count-dev-01', moduleId: 'b' });
    const app = await runModule(
      stack.emulator.identityConnectionString('count-dev-01', 'a', 'mqtt'),
      {
        ca: stack.emulator.tls.caCert,
        transport: 'mqtt',
        log: () => undefined,
      },
    );
    try {
      const { body } = await stack.api('/api/devices?prefix=count-dev-01');
      expect(body.items[0]).toMatchObject({ moduleCount: 2, modulesConnected: 1 });
    } finally {
      await app.stop();
    }
  });

  it('when a WHERE clause has a syntax error or a tag filter is malformed, then 400 says why', async () => {
    const bad = await stack.api(`/api/devices?where=${encodeURIComponent('tags.site = ')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('bad_request');
    expect(bad.body.message).toMatch(/position/);
    const badTag = await stack.api('/api/devices?tag=justtext');
    expect(badTag.status).toBe(400);
    expect(badTag.body.code).toBe('validation_failed');
    const badSize = await stack.api('/api/devices?pageSize=5000');
    expect(badSize.status).toBe(400);
  });

  it('when a raw WHERE clause tries to break out of its parentheses, then 400 and no device leaks past the other filters', async () => {
    const escape = await stack.api(
      `/api/devices?prefix=lyon-&where=${encodeURIComponent('1=1) OR (1=1')}`,
    );
    expect(escape.status).toBe(400);
    expect(escape.body.message).toMatch(/never opened/);
    const deep = await stack.api(
      `/api/devices?where=${encodeURIComponent(`${'('.repeat(1900)}1=1${')'.repeat(1900)}`)}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.body.message).toMatch(/nests deeper than 20 levels/);
    // The same words inside a string are just text.
    const quoted = await stack.api(
      `/api/devices?prefix=lyon-&where=${encodeURIComponent("deviceId != '1=1) OR (1=1'")}`,
    );
    expect(
      quoted.body.items.every((d: { deviceId: string }) => d.deviceId.startsWith('lyon-')),
    ).toBe(true);
  });

  it('when a device is opened, then identity and twin come back and no key ever does', async () => {
    const response = await stack.api('/api/devices/berlin-b1-gateway-01');
    expect(response.status).toBe(200);
    expect(response.body.device).toMatchObject({
      deviceId: 'berlin-b1-gateway-01',
      authenticationType: 'sas',
      iotEdge: false,
    });
    expect(response.body.twin.tags.site).toBe('berlin');
    expect(response.body.twin.properties.desired.$version).toBe(2);
    expect(response.text).not.toMatch(/primaryKey|secondaryKey|SharedAccessKey/i);
    const modules = await stack.api('/api/devices/berlin-b1-gateway-01/modules');
    expect(modules.body.items.map((m: { moduleId: string }) => m.moduleId).sort()).toEqual([
      'controller',
      'opcua-bridge',
      'storage',
      'telemetry',
    ]);
    expect(modules.text).not.toMatch(/primaryKey|secondaryKey/i);
    const module = await stack.api('/api/devices/berlin-b1-gateway-01/modules/controller');
    expect(module.body.module).toMatchObject({ moduleId: 'controller', reserved: false });
    expect(module.body.twin.properties.desired.mode).toBe('forward');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('when an id is unknown or hostile, then 404 or 400 with a message, and the BFF keeps serving', async () => {
    expect((await stack.api('/api/devices/nope-404')).body.code).toBe('not_found');
    expect((await stack.api('/api/devices/berlin-b1-gateway-01/modules/none')).status).toBe(404);
    for (const id of ['%2E%2E%2F%2E%2E', 'd%C3%A9vice', 'x'.repeat(200), '%00']) {
      const response = await stack.api(`/api/devices/${id}`);
      expect([400, 404]).toContain(response.status);
      expect(response.body.message).toBeTruthy();
      expect(response.body.requestId).toBeTruthy();
    }
    expect((await stack.api('/api/nothing')).status).toBe(404);
    expect((await stack.api('/api/health')).status).toBe(200);
  });

  it('when the console is served, then the CSP allows Monaco without any other origin', async () => {
    const response = await stack.api('/api/health');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).not.toMatch(/https?:\/\//);
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
