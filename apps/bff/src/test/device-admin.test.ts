import { describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { openStream, useStack, type Harness } from './harness.ts';

/**
 * Opens a device client with a connection string: true once connected, false when the hub
 * refuses the device (any other failure fails the test).
 */
async function connects(stack: Harness, connectionString: string): Promise<boolean> {
  const client = deviceSdk.Client.fromConnectionString(connectionString, mqttTransport.Mqtt);
  await client.setOptions({ ca: stack.emulator.tls.caCert });
  try {
    await client.open();
    return true;
  } catch (error) {
    expect((error as Error).constructor.name).toBe('UnauthorizedError');
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe('BFF: device identities (Admin)', () => {
  const stack = useStack();

  it('when a device is created with generated keys, then the hub has it, the answer holds no key, tabs hear of it, and the revealed string connects', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      await stream.next((e) => e.event === 'hello');
      const created = await stack.api('/api/devices', {
        method: 'POST',
        json: { deviceId: 'new-meter-01' },
      });
      expect(created.status).toBe(201);
      expect(created.body.device).toMatchObject({
        deviceId: 'new-meter-01',
        status: 'enabled',
        authenticationType: 'sas',
        iotEdge: false,
      });
      expect(created.text).not.toMatch(/primaryKey|SharedAccessKey/);
      const event = await stream.next((e) => e.event === 'identity');
      expect(event.data).toEqual({ type: 'identity', change: 'created', deviceId: 'new-meter-01' });
    } finally {
      stream.close();
    }
    const reveal = await stack.api('/api/devices/new-meter-01/connection-string', {
      method: 'POST',
    });
    expect(reveal.headers.get('cache-control')).toBe('no-store');
    const { connectionString } = reveal.body as { connectionString: string };
    expect(connectionString).toMatch(
      new RegExp(
        `^HostName=${stack.emulator.hostName}:\\d+;DeviceId=new-meter-01;SharedAccessKey=`,
      ),
    );
    expect(await connects(stack, connectionString)).toBe(true);
    // The log never carries the key.
    expect(stack.logLines.join('\n')).not.toContain(connectionString.split('SharedAccessKey=')[1]);
  });

  it('when an IoT Edge device, an X.509 self-signed device and a CA-signed device are created, then each is as asked; bad input is refused', async () => {
    const edge = await stack.api('/api/devices', {
      method: 'POST',
      json: { deviceId: 'edge-gw-01', iotEdge: true },
    });
    expect(edge.body.device).toMatchObject({ iotEdge: true, authenticationType: 'sas' });
    const self = await stack.api('/api/devices', {
      method: 'POST',
      json: {
        deviceId: 'x509-self-01',
        authentication: { type: 'selfSigned', primaryThumbprint: 'AB'.repeat(20) },
      },
    });
    expect(self.body.device.authenticationType).toBe('selfSigned');
    const ca = await stack.api('/api/devices', {
      method: 'POST',
      json: { deviceId: 'x509-ca-01', authentication: { type: 'certificateAuthority' } },
    });
    expect(ca.body.device.authenticationType).toBe('certificateAuthority');
    const noKey = await stack.api('/api/devices/x509-ca-01/connection-string', { method: 'POST' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.message).toMatch(/X\.509/);
    for (const json of [
      { deviceId: 'has/slash' },
      { deviceId: 'x'.repeat(129) },
      { deviceId: 'ok-1', authentication: { type: 'sas', primaryKey: 'short' } },
      { deviceId: 'ok-2', authentication: { type: 'selfSigned', primaryThumbprint: 'zz' } },
      { deviceId: 'ok-3', statusReason: 'r'.repeat(129) },
      { deviceId: 'edge-gw-01' },
    ]) {
      const refused = await stack.api('/api/devices', { method: 'POST', json });
      expect(refused.status, JSON.stringify(json).slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(refused.body.message).toBeTruthy();
    }
    const ids = (await stack.registry.list()).responseBody.map((d) => d.deviceId);
    expect(ids.filter((id) => id.startsWith('ok-'))).toEqual([]);
  });

  it('when a device is disabled with a reason, then it can no longer connect; a stale etag changes nothing; enabling lets it back', async () => {
    const { connectionString } = (
      await stack.api('/api/devices/new-meter-01/connection-string', { method: 'POST' })
    ).body as { connectionString: string };
    const { device } = (await stack.api('/api/devices/new-meter-01')).body;
    const disabled = await stack.api('/api/devices/new-meter-01', {
      method: 'PATCH',
      json: { etag: device.etag, status: 'disabled', statusReason: 'stolen from site 4' },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body.device).toMatchObject({
      status: 'disabled',
      statusReason: 'stolen from site 4',
    });
    expect((await stack.registry.get('new-meter-01')).responseBody.status).toBe('disabled');
    expect(await connects(stack, connectionString)).toBe(false);
    const stale = await stack.api('/api/devices/new-meter-01', {
      method: 'PATCH',
      json: { etag: device.etag, status: 'enabled' },
    });
    expect(stale.status).toBe(412);
    expect((await stack.registry.get('new-meter-01')).responseBody.status).toBe('disabled');
    const enabled = await stack.api('/api/devices/new-meter-01', {
      method: 'PATCH',
      json: { etag: disabled.body.device.etag, status: 'enabled', statusReason: null },
    });
    expect(enabled.body.device.status).toBe('enabled');
    // The keys survived both changes.
    expect(await connects(stack, connectionString)).toBe(true);
  });

  it('when the primary key is regenerated, then the old string is refused and the new one connects', async () => {
    const old = (await stack.api('/api/devices/new-meter-01/connection-string', { method: 'POST' }))
      .body.connectionString as string;
    const { device } = (await stack.api('/api/devices/new-meter-01')).body;
    const regenerated = await stack.api('/api/devices/new-meter-01', {
      method: 'PATCH',
      json: { etag: device.etag, regenerateKey: 'primary' },
    });
    expect(regenerated.status).toBe(200);
    expect(regenerated.text).not.toMatch(/SharedAccessKey|primaryKey/);
    const fresh = (
      await stack.api('/api/devices/new-meter-01/connection-string', { method: 'POST' })
    ).body.connectionString as string;
    expect(fresh).not.toBe(old);
    expect(await connects(stack, old)).toBe(false);
    expect(await connects(stack, fresh)).toBe(true);
  });

  it('when devices are disabled in bulk, then each gets its own result: a stale etag or a missing device is refused while the rest are applied, and each is audited', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 100)
      await stack.registry.addDevices(
        ids.slice(i, i + 100).map((deviceId) => ({ deviceId })) as never,
      );
    const devices = await Promise.all(
      ids.map(async (deviceId) => {
        const { responseBody } = await stack.registry.get(deviceId);
        return { deviceId, etag: responseBody.etag as string };
      }),
    );
    // One etag goes stale before the bulk call, and one device does not exist.
    await stack.registry.update({ deviceId: 'bulk-007', status: 'enabled' } as never);
    const response = await stack.api('/api/devices/bulk', {
      method: 'POST',
      json: {
        action: 'disable',
        statusReason: 'site closed',
        devices: [...devices, { deviceId: 'bulk-missing', etag: 'AAAA' }],
      },
    });
    expect(response.status).toBe(200);
    const results = response.body.results as { deviceId: string; ok: boolean; error?: any }[];
    expect(results).toHaveLength(121);
    const refused = results.filter((r) => !r.ok);
    expect(refused.map((r) => [r.deviceId, r.error.code]).sort()).toEqual([
      ['bulk-007', 'conflict'],
      ['bulk-missing', 'not_found'],
    ]);
    expect((await stack.registry.get('bulk-119')).responseBody).toMatchObject({
      status: 'disabled',
      statusReason: 'site closed',
    });
    expect((await stack.registry.get('bulk-007')).responseBody.status).toBe('enabled');
    const history = await stack.api('/api/devices/bulk-119/history');
    expect(history.body.entries[0]).toMatchObject({
      action: 'device.update',
      result: 'succeeded',
      change: { status: 'disabled', statusReason: 'site closed' },
    });
    const refusedHistory = await stack.api('/api/devices/bulk-007/history');
    expect(refusedHistory.body.entries[0]).toMatchObject({ result: 'refused' });

    const tooMany = await stack.api('/api/devices/bulk', {
      method: 'POST',
      json: {
        action: 'delete',
        devices: Array.from({ length: 1001 }, (_, i) => ({ deviceId: `d${i}`, etag: 'x' })),
      },
    });
    expect(tooMany.status).toBe(400);
    const twice = await stack.api('/api/devices/bulk', {
      method: 'POST',
      json: { action: 'delete', devices: [devices[0], devices[0]] },
    });
    expect(twice.status).toBe(400);
    expect(twice.body.message).toMatch(/twice/);

    // The disable changed every etag: deleting with the old ones deletes nothing …
    const stale = await stack.api('/api/devices/bulk', {
      method: 'POST',
      json: { action: 'delete', devices: devices.slice(100) },
    });
    expect(stale.body.results.every((r: { ok: boolean }) => !r.ok)).toBe(true);
    // … with the current ones, all go.
    const current = (await stack.api('/api/devices?prefix=bulk-1&pageSize=100')).body.items.map(
      // The identity's etag, not the twin's.
      (d: { deviceId: string; deviceEtag: string }) => ({
        deviceId: d.deviceId,
        etag: d.deviceEtag,
      }),
    );
    expect(current).toHaveLength(20);
    const deleted = await stack.api('/api/devices/bulk', {
      method: 'POST',
      json: { action: 'delete', devices: current },
    });
    expect(deleted.body.results.filter((r: { ok: boolean }) => !r.ok)).toEqual([]);
    const left = (await stack.registry.list()).responseBody.filter((d) =>
      d.deviceId.startsWith('bulk-'),
    );
    expect(left).toHaveLength(100);
  });

  it('when a device is deleted, then it needs its current etag; with it, the device is gone and tabs hear of it', async () => {
    const { device } = (await stack.api('/api/devices/edge-gw-01')).body;
    const missing = await stack.api('/api/devices/edge-gw-01', { method: 'DELETE' });
    expect(missing.status).toBe(400);
    const stale = await stack.api(
      `/api/devices/edge-gw-01?etag=${encodeURIComponent('AAAAAAAAAAE=')}`,
      {
        method: 'DELETE',
      },
    );
    expect(stale.status).toBe(412);
    expect((await stack.registry.get('edge-gw-01')).responseBody.deviceId).toBe('edge-gw-01');
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      await stream.next((e) => e.event === 'hello');
      const gone = await stack.api(
        `/api/devices/edge-gw-01?etag=${encodeURIComponent(device.etag)}`,
        {
          method: 'DELETE',
        },
      );
      expect(gone.status).toBe(204);
      expect((await stream.next((e) => e.event === 'identity')).data).toMatchObject({
        change: 'deleted',
        deviceId: 'edge-gw-01',
      });
    } finally {
      stream.close();
    }
    expect((await stack.api('/api/devices/edge-gw-01')).status).toBe(404);
  });
});
