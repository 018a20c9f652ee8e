import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDevice } from './module-app.ts';
import { provisionDevice } from './provisioned-device.ts';

describe('a simulated device that provisions itself through the demo enrollment group', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0, seed: 'demo' });
  });
  afterAll(() => emulator?.close());

  /** What connection.json says, as `npm start`'s simulator reads it. */
  const connection = (): ConnectionFile => ({
    hostName: emulator.hostName,
    httpsPort: emulator.httpsPort,
    mqttPort: emulator.mqttPort,
    amqpsPort: emulator.amqpsPort,
    serviceConnectionString: emulator.serviceConnectionString,
    caCertFile: 'unused',
    throttle: null,
    eventHubs: {
      connectionString: emulator.events.connectionString,
      name: emulator.events.name,
      amqpPort: emulator.events.amqpPort,
      partitionCount: emulator.events.partitionCount,
      consumerGroups: emulator.events.consumerGroups,
    },
    storage: null,
    provisioning: {
      idScope: emulator.provisioning.idScope,
      serviceConnectionString: emulator.provisioning.serviceConnectionString,
      deviceEndpoint: emulator.provisioning.deviceEndpoint,
    },
  });

  it('when it boots with its registration id and the key derived from the group, then it is assigned to the hub with the group initial twin and connects as that device', async () => {
    const device = await provisionDevice({
      connection: connection(),
      registrationId: 'berlin-b2-sensor-21',
      groupId: 'demo-sensors',
      ca: emulator.tls.caCert,
    });
    expect(device).toMatchObject({
      deviceId: 'berlin-b2-sensor-21',
      assignedHub: emulator.hostName,
    });
    const record = emulator.registry.find('berlin-b2-sensor-21')!;
    expect(record.twin.tags).toMatchObject({ site: 'berlin', provisionedBy: 'dps' });

    const running = await runDevice(device.connectionString, {
      ca: emulator.tls.caCert,
      ports: { mqtt: emulator.mqttPort, https: emulator.httpsPort, amqp: emulator.amqpsPort },
      transport: 'mqtt',
      log: () => undefined,
    });
    try {
      await expect
        .poll(() => emulator.registry.find('berlin-b2-sensor-21')!.connectionState)
        .toBe('Connected');
    } finally {
      await running.stop();
    }
  });

  it('when the group is not there, then it fails saying which group', async () => {
    await expect(
      provisionDevice({
        connection: connection(),
        registrationId: 'nobody',
        groupId: 'no-such-group',
        ca: emulator.tls.caCert,
      }),
    ).rejects.toThrow(/enrollment group no-such-group: 404/);
  });
});
