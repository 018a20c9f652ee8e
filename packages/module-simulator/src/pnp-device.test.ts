import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor, serviceClientFor } from '@twinscope/hub-connection';
import type iothub from 'azure-iothub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningModule } from './module-app.ts';
import { CONTROLLER_MODEL, runPnpDevice, THERMOSTAT_MODEL } from './pnp-device.ts';

/** A model from this package's repository folder, found as a model repository lays it out. */
function model(dtmi: string) {
  const [path, version] = dtmi.toLowerCase().split(';') as [string, string];
  const file = join(import.meta.dirname, '..', 'models', ...path.split(':'));
  return JSON.parse(readFileSync(`${file}-${version}.json`, 'utf8')) as {
    '@id': string;
    contents: { '@type': string | string[]; name: string; schema?: unknown }[];
  };
}

describe('Plug and Play devices of the simulator', () => {
  let emulator: RunningEmulator;
  let registry: ReturnType<typeof registryFor>;
  let service: iothub.Client;
  const running: RunningModule[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0 });
    registry = registryFor(emulator.serviceConnectionString, { ca: emulator.tls.caCert });
    service = serviceClientFor(emulator.serviceConnectionString, {
      ca: emulator.tls.caCert,
      amqpPort: emulator.amqpsPort,
    });
    await service.open();
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((app) => app.stop()));
    await service.close();
    await emulator.close();
  });

  async function start(deviceId: string, kind: 'thermostat' | 'controller') {
    await registry.create({ deviceId });
    const app = await runPnpDevice(emulator.identityConnectionString(deviceId, undefined, 'mqtt'), {
      kind,
      ca: emulator.tls.caCert,
      ports: { mqtt: emulator.mqttPort, https: emulator.httpsPort, amqp: emulator.amqpsPort },
      log: () => undefined,
      telemetryIntervalSeconds: 0.2,
    });
    running.push(app);
  }
  const reported = async (deviceId: string) =>
    (await registry.getTwin(deviceId)).responseBody.properties.reported as Record<string, any>;

  it('when the controller connects, then its twin names its model, its components report with their marker, and a component target temperature is acknowledged (or refused) as the convention says', async () => {
    await start('pnp-controller', 'controller');
    const twin = (await registry.getTwin('pnp-controller')).responseBody as { modelId: string };
    expect(twin.modelId).toBe(CONTROLLER_MODEL);
    // The model it names is in the repository, and names the components it reports.
    const controller = model(CONTROLLER_MODEL);
    expect(controller['@id']).toBe(CONTROLLER_MODEL);
    const components = controller.contents.filter((c) => c['@type'] === 'Component');
    expect(components.map((c) => c.name)).toEqual([
      'thermostat1',
      'thermostat2',
      'deviceInformation',
    ]);
    expect(model(components[0]!.schema as string)['@id']).toBe(THERMOSTAT_MODEL);
    await expect
      .poll(async () => (await reported('pnp-controller'))['deviceInformation'])
      .toMatchObject({ __t: 'c', manufacturer: 'Twinscope demo' });
    expect((await reported('pnp-controller'))['thermostat1']).toMatchObject({
      __t: 'c',
      maxTempSinceLastReboot: expect.any(Number),
    });

    const { responseBody } = await registry.getTwin('pnp-controller');
    const asked = await registry.updateTwin(
      'pnp-controller',
      { properties: { desired: { thermostat1: { __t: 'c', targetTemperature: 24.5 } } } },
      responseBody.etag,
    );
    const version = (asked.responseBody.properties.desired as { $version: number }).$version;
    await expect
      .poll(async () => (await reported('pnp-controller'))['thermostat1']?.['targetTemperature'])
      .toEqual({ value: 24.5, ac: 200, av: version, ad: 'Target temperature set' });
    const again = await registry.getTwin('pnp-controller');
    await registry.updateTwin(
      'pnp-controller',
      { properties: { desired: { thermostat2: { __t: 'c', targetTemperature: 400 } } } },
      again.responseBody.etag,
    );
    await expect
      .poll(async () => (await reported('pnp-controller'))['thermostat2']?.['targetTemperature'])
      .toMatchObject({ value: 400, ac: 400 });
  });

  it("when a component's command is invoked as component*command, then the thermostat answers its report; the controller's reboot refuses a bad delay", async () => {
    await start('pnp-controller-2', 'controller');
    await new Promise((resolve) => setTimeout(resolve, 700));
    const answer = await service.invokeDeviceMethod('pnp-controller-2', {
      methodName: 'thermostat2*getMaxMinReport',
      payload: new Date(Date.now() - 60_000).toISOString(),
      responseTimeoutInSeconds: 10,
    });
    expect(answer.result).toMatchObject({
      status: 200,
      payload: {
        maxTemp: expect.any(Number),
        minTemp: expect.any(Number),
        avgTemp: expect.any(Number),
      },
    });
    const refused = await service.invokeDeviceMethod('pnp-controller-2', {
      methodName: 'reboot',
      payload: 'soon',
      responseTimeoutInSeconds: 10,
    });
    expect(refused.result).toMatchObject({ status: 400 });
  });

  it('when the thermostat connects, then it names its model and acknowledges a root target temperature', async () => {
    await start('pnp-thermostat', 'thermostat');
    expect(
      ((await registry.getTwin('pnp-thermostat')).responseBody as { modelId: string }).modelId,
    ).toBe(THERMOSTAT_MODEL);
    const { responseBody } = await registry.getTwin('pnp-thermostat');
    await registry.updateTwin(
      'pnp-thermostat',
      { properties: { desired: { targetTemperature: 19 } } },
      responseBody.etag,
    );
    await expect
      .poll(async () => (await reported('pnp-thermostat'))['targetTemperature'])
      .toMatchObject({ value: 19, ac: 200 });
  });
});
