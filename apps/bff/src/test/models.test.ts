import { runPnpDevice, type RunningModule } from '@twinscope/module-simulator';
import { afterAll, describe, expect, it } from 'vitest';
import { useStack } from './harness.ts';

describe('Plug and Play models through the BFF', () => {
  const stack = useStack();
  const running: RunningModule[] = [];
  afterAll(async () => {
    for (const device of running) await device.stop();
  });

  it('when a thermostat connects announcing its model, then its page gets the model from the repository (telemetry with units, a writable property, a command); a device that announced none is told so', async () => {
    const deviceId = 'pnp-model-thermostat';
    await stack.registry.create({ deviceId });
    running.push(
      await runPnpDevice(stack.emulator.identityConnectionString(deviceId, undefined, 'mqtt'), {
        kind: 'thermostat',
        ca: stack.emulator.tls.caCert,
        ports: { mqtt: stack.emulator.mqttPort },
        log: () => undefined,
        telemetryIntervalSeconds: 60,
      }),
    );
    const answer = await stack.api(`/api/devices/${deviceId}/model`);
    expect(answer.status).toBe(200);
    expect(answer.body.modelId).toBe('dtmi:twinscope:demo:Thermostat;1');
    expect(answer.body.repository).toBe('the local model folder');
    const { root, components } = answer.body.model;
    expect(components).toEqual([]);
    expect(root.telemetry).toEqual([
      expect.objectContaining({ name: 'temperature', unit: 'degreeCelsius' }),
    ]);
    expect(root.properties.filter((p: { writable: boolean }) => p.writable)).toEqual([
      expect.objectContaining({ name: 'targetTemperature' }),
    ]);
    expect(root.commands.map((c: { name: string }) => c.name)).toEqual(['getMaxMinReport']);

    const plain = await stack.api('/api/devices/berlin-b1-meter-03/model');
    expect(plain.status).toBe(404);
    expect(plain.body).toMatchObject({
      code: 'model_not_found',
      message: expect.stringMatching(/announced no model id/),
    });
  });
});
