import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor } from '@twinscope/hub-connection';
import { runFleet } from './fleet.ts';
import { runModule, TRANSPORTS, type RunningModule } from './module-app.ts';
import { eventually } from './test-support.ts';

describe('the module app from the how-to, against the emulator over every transport', () => {
  let emulator: RunningEmulator;
  let registry: ReturnType<typeof registryFor>;
  const running: RunningModule[] = [];
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(async () => {
    emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0, seed: 'demo' });
    registry = registryFor(emulator.serviceConnectionString, { ca: emulator.tls.caCert });
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((m) => m.stop()));
    await emulator.close();
  });

  const reported = async (deviceId: string, moduleId: string) =>
    (await registry.getModuleTwin(deviceId, moduleId)).responseBody.properties.reported as Record<
      string,
      unknown
    >;

  const ports = () => ({
    mqtt: emulator.mqttPort,
    amqp: emulator.amqpsPort,
    https: emulator.httpsPort,
  });

  it.each(TRANSPORTS)(
    'when it starts over %s, then it reports DateTimeLastAppLaunch; a desired change is copied to reported and stamped',
    async (transport) => {
      const deviceId = `howto-${transport}`;
      const moduleId = 'controller';
      await registry.create({ deviceId });
      await registry.addModule({ deviceId, moduleId });
      // The module's connection string names one port (MQTT's); the app takes the others from
      // its configuration, as HostName cannot carry a port per transport.
      running.push(
        await runModule(emulator.identityConnectionString(deviceId, moduleId), {
          ca: emulator.tls.caCert,
          transport,
          ports: ports(),
          log,
        }),
      );
      const launched = await eventually(
        () => reported(deviceId, moduleId),
        (r) => typeof r['DateTimeLastAppLaunch'] === 'string',
      );
      expect(Date.parse(launched['DateTimeLastAppLaunch'] as string)).toBeGreaterThan(
        Date.now() - 60_000,
      );
      // The desired document it already had at launch is not re-acknowledged.
      expect(launched['DateTimeLastDesiredPropertyChangeReceived']).toBeUndefined();

      await registry.updateModuleTwin(
        deviceId,
        moduleId,
        { properties: { desired: { mode: 'boost', setpoint: { celsius: 23 } } } },
        '*',
      );
      const acknowledged = await eventually(
        () => reported(deviceId, moduleId),
        (r) => r['mode'] === 'boost',
      );
      expect(acknowledged['setpoint']).toEqual({ celsius: 23 });
      expect(typeof acknowledged['DateTimeLastDesiredPropertyChangeReceived']).toBe('string');
      expect(lines.some((l) => l.includes(`[${deviceId}/controller] desired mode = "boost"`))).toBe(
        true,
      );
      expect(
        lines.some((l) => l.includes(`[${deviceId}/controller] connecting over ${transport}`)),
      ).toBe(true);
      expect(lines.join('\n')).not.toMatch(/SharedAccessKey/);
    },
  );

  it('when the fleet mode runs a query-selected set, then every selected module launches, taking turns over the transports', async () => {
    const fleet = await runFleet({
      serviceConnectionString: emulator.serviceConnectionString,
      ports: ports(),
      ca: emulator.tls.caCert,
      query: "SELECT * FROM devices.modules WHERE moduleId = 'storage'",
      log,
    });
    running.push(...fleet);
    expect(fleet.map((m) => m.name).sort()).toEqual([
      'berlin-b1-gateway-01/storage',
      'lyon-north-gateway-07/storage',
      'toronto-hq-gateway-11/storage',
    ]);
    for (const name of fleet.map((m) => m.name)) {
      const [deviceId, moduleId] = name.split('/') as [string, string];
      await eventually(
        () => reported(deviceId, moduleId),
        (r) => typeof r['DateTimeLastAppLaunch'] === 'string',
      );
      expect((await registry.getModule(deviceId, moduleId)).responseBody.connectionState).toBe(
        'Connected',
      );
    }
  });
});
