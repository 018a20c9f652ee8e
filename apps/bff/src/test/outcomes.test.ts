import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHubsStream, useStack, type Harness } from './harness.ts';
import { hasPostgres, startPostgres, type PostgresServer } from './postgres-server.ts';

if (!hasPostgres && process.env['CI'])
  throw new Error('CI needs PostgreSQL for the database outage test (npm test installs it).');

const ada = { id: 'ada', name: 'Ada Admin' };

describe('BFF: twin writes whose outcome was never recorded', () => {
  const stack: Harness = useStack({
    emulator: { routes: ['TwinChangeEvents'], consumerGroups: ['twinscope'] },
    env: () => ({ TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString }),
  });

  it('when the BFF stopped between the hub write and its record, then once the hub answers the write is settled: credited to its author in the versions, or said never to have reached the hub', async () => {
    const device = 'berlin-b1-meter-03';
    // The history reads the endpoint from when it is live: wait for that first.
    (await eventHubsStream(stack.bff.url)).stream.close();
    const twinNow = async () => (await stack.api(`/api/devices/${device}`)).body.twin;
    const before = await twinNow();
    // What the BFF records before it calls the hub, then the call it made, then it "died".
    const landed = await stack.bff.audit.begin({
      actor: ada,
      action: 'twin.patch',
      target: { deviceId: device },
      change: { tags: { crash: 'landed' } },
      before: { etag: before.etag, version: before.version },
    });
    await stack.registry.updateTwin(device, { tags: { crash: 'landed' } }, before.etag);
    const now = await twinNow();
    // A second attempt whose process died before it called the hub.
    const lost = await stack.bff.audit.begin({
      actor: ada,
      action: 'twin.patch',
      target: { deviceId: device },
      change: { tags: { crash: 'lost' } },
      before: { etag: now.etag, version: now.version },
    });
    const versionBy = async () =>
      (await stack.api(`/api/devices/${device}/versions`)).body.versions.find(
        (v: { version: number }) => v.version === now.version,
      )?.by;
    // Unsettled, the history can only credit the change to whoever is not Twinscope.
    await expect.poll(versionBy, { timeout: 10_000 }).toBe('another back end');

    // As if minutes had passed (newer attempts may still be in flight, so they wait).
    expect(await stack.bff.outcomes.reconcile(Date.now() + 10 * 60_000)).toBe(2);
    const [lostEntry, landedEntry] = (
      await stack.bff.audit.forTarget({ deviceId: device }, { limit: 2 })
    ).entries;
    expect(landedEntry).toMatchObject({
      id: landed.id,
      result: 'succeeded',
      after: { version: now.version },
    });
    expect(lostEntry).toMatchObject({
      id: lost.id,
      result: 'failed',
      error: { code: 'not_applied', message: expect.stringMatching(/never reached the hub/) },
    });
    expect(await versionBy()).toBe('Ada Admin');
    // Settled once: a second round finds nothing.
    expect(await stack.bff.outcomes.reconcile(Date.now() + 10 * 60_000)).toBe(0);
  });
});

describe.skipIf(!hasPostgres)('BFF: when the team database goes away', () => {
  let server: PostgresServer;
  let databaseUrl = '';
  beforeAll(async () => {
    server = await startPostgres();
    databaseUrl = server.url;
  }, 60_000);
  const stack = useStack({ env: () => ({ TWINSCOPE_DATABASE_URL: databaseUrl }) });
  afterAll(async () => {
    await server?.stop();
  });

  it('when the database goes down, then changes are refused saying the database is down (503, the hub untouched) and so are reads of the trail; a call in flight keeps its outcome and records it once the database is back', async () => {
    await stack.registry.create({ deviceId: 'slow-dev' });
    const client = deviceSdk.Client.fromConnectionString(
      stack.emulator.identityConnectionString('slow-dev'),
      mqttTransport.Mqtt,
    );
    await client.setOptions({ ca: stack.emulator.tls.caCert });
    await client.open();
    try {
      client.onDeviceMethod('slow', (_request, response) => {
        setTimeout(() => void response!.send(200, { done: true }), 1500);
      });
      const device = 'berlin-b1-meter-03';
      const { twin } = (await stack.api(`/api/devices/${device}`)).body;
      const call = stack.api('/api/devices/slow-dev/methods', {
        method: 'POST',
        json: { methodName: 'slow', responseTimeoutInSeconds: 10 },
      });
      // The call's attempt is recorded; the database goes away while the device works.
      await expect
        .poll(async () => stack.bff.audit.recent({ deviceId: 'slow-dev' }, 'method.invoke', 1))
        .toHaveLength(1);
      await server.down();
      expect((await call).body).toMatchObject({ status: 200, payload: { done: true } });

      const refused = await stack.api(`/api/devices/${device}/twin`, {
        method: 'PATCH',
        json: { etag: twin.etag, tags: { during: 'outage' } },
      });
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('database_unavailable');
      expect(refused.body.message).toMatch(/database/);
      expect((await stack.registry.getTwin(device)).responseBody.etag).toBe(twin.etag);
      const trail = await stack.api('/api/audit');
      expect(trail.status).toBe(503);
      expect(trail.body.code).toBe('database_unavailable');

      await server.up();
      await expect
        .poll(
          async () =>
            (await stack.api('/api/devices/slow-dev/methods')).body.invocations?.[0]?.result,
          { timeout: 20_000 },
        )
        .toBe('succeeded');
    } finally {
      await client.close();
    }
  }, 60_000);
});
