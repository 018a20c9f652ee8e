import { describe, expect, it } from 'vitest';
import { runModule } from '@twinscope/module-simulator';
import { openStream, useStack } from './harness.ts';

describe('BFF: module identity lifecycle', () => {
  const stack = useStack();
  const base = '/api/devices/lyon-north-meter-08/modules';

  it('when a module is created with generated keys, then it exists on the hub without a key in the answer, and tabs hear of it', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      await stream.next((e) => e.event === 'hello');
      const response = await stack.api(base, {
        method: 'POST',
        json: { moduleId: 'analytics', managedBy: 'ops' },
      });
      expect(response.status).toBe(201);
      expect(response.body.module).toMatchObject({
        moduleId: 'analytics',
        managedBy: 'ops',
        authenticationType: 'sas',
      });
      expect(response.text).not.toMatch(/primaryKey|SharedAccessKey/);
      const { responseBody } = await stack.registry.getModule('lyon-north-meter-08', 'analytics');
      expect(responseBody.authentication?.symmetricKey?.primaryKey).toMatch(/=$/);
      const event = await stream.next((e) => e.event === 'identity');
      expect(event.data).toEqual({
        type: 'identity',
        change: 'created',
        deviceId: 'lyon-north-meter-08',
        moduleId: 'analytics',
      });
    } finally {
      stream.close();
    }
  });

  it('when keys or thumbprints are given, then they are used; bad ones and reserved ids are refused', async () => {
    const primaryKey = Buffer.alloc(32, 5).toString('base64');
    const given = await stack.api(base, {
      method: 'POST',
      json: { moduleId: 'given', authentication: { type: 'sas', primaryKey } },
    });
    expect(given.status).toBe(201);
    expect(
      (await stack.registry.getModule('lyon-north-meter-08', 'given')).responseBody.authentication
        ?.symmetricKey?.primaryKey,
    ).toBe(primaryKey);
    const x509 = await stack.api(base, {
      method: 'POST',
      json: {
        moduleId: 'cert',
        authentication: { type: 'selfSigned', primaryThumbprint: 'a'.repeat(40) },
      },
    });
    expect(x509.body.module.authenticationType).toBe('selfSigned');
    for (const json of [
      { moduleId: 'bad', authentication: { type: 'sas', primaryKey: 'short' } },
      { moduleId: '$edgeAgent' },
      { moduleId: 'has/slash' },
      { moduleId: 'given' },
    ]) {
      const response = await stack.api(base, { method: 'POST', json });
      expect(response.status, JSON.stringify(json)).toBeGreaterThanOrEqual(400);
      expect(response.body.message).toBeTruthy();
    }
  });

  it('when managedBy is changed with the etag, then it changes; a stale etag is refused and changes nothing', async () => {
    const { body } = await stack.api(`${base}/given`);
    const changed = await stack.api(`${base}/given`, {
      method: 'PATCH',
      json: { etag: body.module.etag, managedBy: 'team-b' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.module.managedBy).toBe('team-b');
    const stale = await stack.api(`${base}/given`, {
      method: 'PATCH',
      json: { etag: body.module.etag, managedBy: 'team-c' },
    });
    expect(stale.status).toBe(412);
    expect(
      (await stack.registry.getModule('lyon-north-meter-08', 'given')).responseBody.managedBy,
    ).toBe('team-b');
  });

  it('when the connection string is revealed, then the module app connects with it; after regenerating the key the old one fails', async () => {
    const reveal = await stack.api(`${base}/analytics/connection-string`, { method: 'POST' });
    expect(reveal.status).toBe(200);
    expect(reveal.headers.get('cache-control')).toBe('no-store');
    const { connectionString } = reveal.body as { connectionString: string };
    expect(connectionString).toMatch(
      new RegExp(
        `^HostName=${stack.emulator.hostName}:${stack.emulator.mqttPort};DeviceId=lyon-north-meter-08;ModuleId=analytics;SharedAccessKey=`,
      ),
    );
    // The module app runs over AMQP (the how-to's default): HostName names the MQTT port,
    // so it takes the emulator's ports per protocol, as against any non-default stack.
    const app = {
      ca: stack.emulator.tls.caCert,
      log: () => undefined,
      ports: {
        mqtt: stack.emulator.mqttPort,
        amqp: stack.emulator.amqpsPort,
        https: stack.emulator.httpsPort,
      },
    };
    const module = await runModule(connectionString, app);
    await module.stop();

    const { body } = await stack.api(`${base}/analytics`);
    const regenerated = await stack.api(`${base}/analytics`, {
      method: 'PATCH',
      json: { etag: body.module.etag, regenerateKey: 'primary' },
    });
    expect(regenerated.status).toBe(200);
    await expect(runModule(connectionString, app)).rejects.toThrow();
    const fresh = (await stack.api(`${base}/analytics/connection-string`, { method: 'POST' })).body
      .connectionString as string;
    expect(fresh).not.toBe(connectionString);
    const reconnected = await runModule(fresh, app);
    await reconnected.stop();
  });

  it('when a module is deleted, then the etag is required and checked, and it is gone', async () => {
    const { body } = await stack.api(`${base}/cert`);
    expect((await stack.api(`${base}/cert`, { method: 'DELETE' })).status).toBe(400);
    const staleDelete = await stack.api(`${base}/cert?etag=${encodeURIComponent('"stale"')}`, {
      method: 'DELETE',
    });
    expect(staleDelete.status).toBe(412);
    const deleted = await stack.api(`${base}/cert?etag=${encodeURIComponent(body.module.etag)}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(204);
    expect((await stack.api(`${base}/cert`)).status).toBe(404);
    expect((await stack.api(`${base}/$edgeHub?etag=x`, { method: 'DELETE' })).status).toBe(403);
  });
});
