import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { useAmqpWire } from './amqp-wire.ts';
import { rawMqttSocket } from './mqtt-raw.ts';
import { uniqueId, useHub } from './hub.ts';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const CONTROLLER = 'dtmi:com:example:TemperatureController;2';

/**
 * Plug and Play: the model id a device or module announces as it connects is kept in its
 * twin's `modelId` and answers queries, whichever way the SDK announces it.
 */
describe('Emulator: Plug and Play model ids, as each SDK announces them', () => {
  const hub = useHub();
  const { connect, opened, dotnetCbs } = useAmqpWire(hub);
  const host = () => hub.emulator.hostName;
  const deviceKey = (deviceId: string, moduleId?: string) =>
    hub.emulator.registry.find(deviceId, moduleId)!.authentication.symmetricKey.primaryKey!;
  const modelIdOf = async (deviceId: string) =>
    ((await hub.registry.getTwin(deviceId)).responseBody as { modelId?: string }).modelId;
  const withModel = async (modelId: string) =>
    (
      await hub.registry
        .createQuery(`SELECT deviceId FROM devices WHERE modelId = '${modelId}'`)
        .nextAsTwin()
    ).result.map((twin) => twin.deviceId);

  it("when Node's device client opens over MQTT with a model id, then the twin carries it and a query on modelId finds the device", async () => {
    const deviceId = uniqueId('pnp-node');
    await hub.registry.create({ deviceId });
    expect(await modelIdOf(deviceId)).toBe('');
    const client = deviceSdk.Client.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId, undefined, 'mqtt'),
      mqttTransport.Mqtt,
    );
    // mqtt.ts 546-548: `&model-id=<id>` after the api-version, not encoded.
    await client.setOptions({ ca: hub.emulator.tls.caCert, modelId: THERMOSTAT } as never);
    await client.open();
    try {
      expect(await modelIdOf(deviceId)).toBe(THERMOSTAT);
      expect(await withModel(THERMOSTAT)).toContain(deviceId);
    } finally {
      await client.close();
    }
    // Connecting again without announcing leaves the model as it was.
    const plain = deviceSdk.Client.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId, undefined, 'mqtt'),
      mqttTransport.Mqtt,
    );
    await plain.setOptions({ ca: hub.emulator.tls.caCert });
    await plain.open();
    await plain.close();
    expect(await modelIdOf(deviceId)).toBe(THERMOSTAT);
  });

  it('when a module connects as the C SDK writes the user name (model id URL-encoded), then its module twin carries it; an id that is not a DTMI is not kept', async () => {
    const deviceId = uniqueId('pnp-c');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'controller' });
    const password = createSasToken(
      `${host()}/devices/${deviceId}/modules/controller`,
      deviceKey(deviceId, 'controller'),
      Math.floor(Date.now() / 1000) + 600,
    );
    // iothubtransport_mqtt_common.c 2659: "&%s=%s" with the URL-encoded model id.
    const connectAs = async (modelId: string) => {
      const client = await rawMqttSocket(hub.emulator);
      client.send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        clientId: `${deviceId}/controller`,
        keepalive: 0,
        username: `${host()}/${deviceId}/controller/?api-version=2020-09-30&DeviceClientType=iothubclient%2F1.15.0&model-id=${encodeURIComponent(modelId)}`,
        password: Buffer.from(password),
      });
      expect(await client.next('connack')).toMatchObject({ returnCode: 0 });
      client.end();
      await client.closed;
    };
    await connectAs(CONTROLLER);
    const moduleTwin = async () =>
      (
        (await hub.registry.getModuleTwin(deviceId, 'controller')).responseBody as {
          modelId?: string;
        }
      ).modelId;
    expect(await moduleTwin()).toBe(CONTROLLER);
    await connectAs('not a model id');
    expect(await moduleTwin()).toBe(CONTROLLER);
  });

  it('when .NET attaches its links with com.microsoft:model-id over AMQP, then the twin carries it', async () => {
    const deviceId = uniqueId('pnp-dotnet');
    await hub.registry.create({ deviceId });
    const connection = await connect();
    const putToken = await dotnetCbs(connection);
    const audience = `${host()}/devices/${deviceId}`;
    const token = createSasToken(
      audience,
      deviceKey(deviceId),
      Math.floor(Date.now() / 1000) + 600,
    );
    expect((await putToken(audience, token))['status-code']).toBe(200);
    // AmqpIotSession.cs 236-241: the model id on every link's attach properties.
    await opened(
      connection.open_sender({
        name: 'TelemetrySenderLink',
        target: { address: `amqps://${host()}:5671/devices/${deviceId}/messages/events` },
        source: { address: deviceId },
        properties: {
          'com.microsoft:client-version': 'Microsoft.Azure.Devices.Client/1.42.3',
          'com.microsoft:api-version': '2020-09-30',
          'com.microsoft:model-id': THERMOSTAT,
        },
      }),
    );
    expect(await modelIdOf(deviceId)).toBe(THERMOSTAT);
  });
});
