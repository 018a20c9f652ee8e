import { describe, expect, it } from 'vitest';
import { sdkRegistry as registryFor } from './hub.ts';
import { request as httpsRequest } from 'node:https';
import { hubQuota } from '@twinscope/hub-quotas';
import { startEmulator } from '../emulator.ts';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

const V = 'api-version=2021-04-12';

describe('bad input gets an IoT Hub-style 4xx and changes nothing', () => {
  const hub = useHub();

  function expectHubError(
    response: { status: number; headers: Record<string, unknown>; json: unknown },
    status: number,
    code?: string,
  ) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toContain('application/json');
    const message = (response.json as { Message?: string }).Message ?? '';
    expect(message).toMatch(/^ErrorCode:\w+;.+/);
    if (code) expect(message.startsWith(`ErrorCode:${code};`)).toBe(true);
    expect(message).not.toMatch(/\bat .+\.ts:\d+/);
  }

  it('when the body is malformed JSON, the wrong type, or not JSON at all, then 400/415', async () => {
    const deviceId = uniqueId('body');
    expectHubError(
      await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, { body: '{"deviceId": ' }),
      400,
      'IotHubFormatError',
    );
    expectHubError(
      await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, { body: '[1,2]' }),
      400,
      'ArgumentInvalid',
    );
    expectHubError(
      await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, { body: '{"status": 7}' }),
      400,
      'ArgumentInvalid',
    );
    expectHubError(
      await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, { body: '{"deviceId": "other"}' }),
      400,
      'ArgumentInvalid',
    );
    expectHubError(
      await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, {
        body: 'deviceId=x',
        headers: { 'Content-Type': 'text/plain' },
      }),
      415,
    );
    expectHubError(
      await hub.raw.send('PATCH', `/twins/${deviceId}?${V}`, { body: '{"tags": 5}' }),
      404,
      'DeviceNotFound',
    );
    expect((await hub.raw.send('GET', `/devices/${deviceId}?${V}`)).status).toBe(404);
  });

  it('when a twin patch has the wrong shape, then 400 and the twin keeps its etag', async () => {
    const deviceId = uniqueId('shape');
    await hub.registry.create({ deviceId });
    const { responseBody: before } = await hub.registry.getTwin(deviceId);
    for (const body of [
      '{"tags": 5}',
      '{"properties": {"desired": []}}',
      '{"properties": {"other": {}}}',
      '{"unknownField": 1}',
      '"text"',
    ]) {
      expectHubError(await hub.raw.send('PATCH', `/twins/${deviceId}?${V}`, { body }), 400);
    }
    expect((await hub.registry.getTwin(deviceId)).responseBody.etag).toBe(before.etag);
  });

  it('when a body nests 3,000 deep, or a twin patch 33 deep, then 400 before anything recurses', async () => {
    const deviceId = uniqueId('deep');
    await hub.registry.create({ deviceId });
    const { responseBody: before } = await hub.registry.getTwin(deviceId);
    const nest = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    for (const body of [
      `{"properties":{"desired":${nest(3000)}}}`,
      `{"tags":${nest(40)}}`,
      `[${'['.repeat(100_000)}${']'.repeat(100_000)}]`,
    ]) {
      const response = await hub.raw.send('PATCH', `/twins/${deviceId}?${V}`, { body });
      expectHubError(response, 400, 'ArgumentInvalid');
      expect((response.json as { Message: string }).Message).toMatch(/deeper than 32 levels/);
    }
    expectHubError(
      await hub.raw.send('POST', `/devices/query?${V}`, {
        body: `{"query": "SELECT * FROM devices", "x": ${nest(5000)}}`,
      }),
      400,
      'ArgumentInvalid',
    );
    expect((await hub.registry.getTwin(deviceId)).responseBody.etag).toBe(before.etag);
  });

  it('when the body is over 256 KB, then 413 and nothing is stored', async () => {
    const deviceId = uniqueId('huge');
    const body = JSON.stringify({ deviceId, statusReason: 'x'.repeat(300 * 1024) });
    expectHubError(await hub.raw.send('PUT', `/devices/${deviceId}?${V}`, { body }), 413);
    await expectSdkError(hub.registry.get(deviceId), 'DeviceNotFoundError');
  });

  it('when the route or method is unknown, or api-version is missing or bad, then 404/405/400', async () => {
    expectHubError(await hub.raw.send('GET', `/nothing/here?${V}`), 404);
    expectHubError(await hub.raw.send('POST', `/twins/x?${V}`, { body: '{}' }), 405);
    expectHubError(await hub.raw.send('GET', '/devices/'), 400, 'InvalidProtocolVersion');
    expectHubError(
      await hub.raw.send('GET', '/devices/?api-version=latest'),
      400,
      'InvalidProtocolVersion',
    );
    expectHubError(
      await hub.raw.send('GET', '/devices/?api-version=2021-04-12%27%3B'),
      400,
      'InvalidProtocolVersion',
    );
  });

  it('when ids are hostile (../, NUL, 10 KB, unicode, bad escapes), then 400 and the hub keeps serving', async () => {
    const hostile = [
      '..%2F..%2Fetc',
      '%00',
      'x'.repeat(10 * 1024),
      encodeURIComponent('dévice-ü'),
      encodeURIComponent('a/b'),
      '%E0%A4%A',
      encodeURIComponent('💥'),
      // Dot-segments: any path normaliser would turn /devices/d/modules/.. into /devices/d.
      '%2E',
      '%2E%2E',
    ];
    for (const id of hostile) {
      const response = await hub.raw.send('PUT', `/devices/${id}?${V}`, { body: '{}' });
      expect(response.status, id.slice(0, 20)).toBe(400);
      expectHubError(response, 400);
    }
    const modules = await hub.raw.send(
      'PUT',
      `/devices/${uniqueId('d')}/modules/${encodeURIComponent('../m')}?${V}`,
      { body: '{}' },
    );
    expect(modules.status).toBeGreaterThanOrEqual(400);
    const parent = uniqueId('d');
    await hub.registry.create({ deviceId: parent });
    for (const moduleId of ['.', '..']) {
      await expectSdkError(hub.registry.create({ deviceId: moduleId }), 'ArgumentError');
      await expectSdkError(hub.registry.addModule({ deviceId: parent, moduleId }), 'ArgumentError');
    }
    expect(
      (await hub.registry.list()).responseBody.every((d) => /^[\x21-\x7e]+$/.test(d.deviceId)),
    ).toBe(true);
    expect((await hub.raw.send('GET', `/statistics/devices?${V}`)).status).toBe(200);
  });

  it('when a WebSocket upgrade names no known subprotocol or another path, then 400 or 404 before any upgrade', async () => {
    const upgrade = (path: string, protocol: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest({
          host: 'localhost',
          port: hub.emulator.httpsPort,
          path,
          ca: hub.emulator.tls.caCert,
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': Buffer.alloc(16, 1).toString('base64'),
            'Sec-WebSocket-Protocol': protocol,
          },
        });
        req.on('response', (res) => resolve(res.statusCode ?? 0));
        req.on('upgrade', () => resolve(101));
        req.on('error', reject);
        req.end();
      });
    expect(await upgrade('/$iothub/websocket', 'chat')).toBe(400);
    expect(await upgrade('/somewhere/else', 'mqtt')).toBe(404);
    expect(await upgrade('/$iothub/websocket', 'mqtt')).toBe(101);
  });

  it('when If-Match is empty, then 400 rather than an unconditional write', async () => {
    const deviceId = uniqueId('ifmatch');
    await hub.registry.create({ deviceId });
    expectHubError(
      await hub.raw.send('PATCH', `/twins/${deviceId}?${V}`, {
        body: '{"tags":{"a":1}}',
        headers: { 'If-Match': '""' },
      }),
      400,
    );
    expect((await hub.registry.getTwin(deviceId)).responseBody.tags).toEqual({});
  });
});

describe('throttling shaped like an S1 unit', () => {
  it('when the query quota is spent, then ThrottlingError with Retry-After, and other classes still work', async () => {
    const emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      throttle: { identity: 100, query: 2 / 60, twinRead: 100, twinUpdate: 50 },
    });
    try {
      const registry = registryFor(emulator.serviceConnectionString, emulator.tls.caCert);
      await registry.createQuery('SELECT * FROM devices').next();
      await registry.createQuery('SELECT * FROM devices').next();
      const error = await expectSdkError(
        registry.createQuery('SELECT * FROM devices').next(),
        'ThrottlingError',
      );
      const retryAfter = Number(
        (error as unknown as { response: { headers: Record<string, string> } }).response.headers[
          'retry-after'
        ],
      );
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
      await registry.create({ deviceId: 'still-works' });
      // What was served is counted per class; the refused query is not.
      expect(emulator.served.of('query')).toBe(2);
      expect(emulator.served.of('identity')).toBe(1);
    } finally {
      await emulator.close();
    }
  });

  it('when the hub throttles as one S1 unit, then 20 queries pass in a minute and the 21st is refused', async () => {
    const emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      throttle: hubQuota('S1'),
    });
    try {
      const registry = registryFor(emulator.serviceConnectionString, emulator.tls.caCert);
      for (let i = 0; i < 20; i++) await registry.createQuery('SELECT * FROM devices').next();
      await expectSdkError(registry.createQuery('SELECT * FROM devices').next(), 'ThrottlingError');
      // Twin reads have their own throttle (100 a second).
      await registry.create({ deviceId: 's1-twin' });
      await registry.getTwin('s1-twin');
    } finally {
      await emulator.close();
    }
  });
});
