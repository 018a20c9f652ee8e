import type { Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { uniqueId, useHub } from './hub.ts';
import { rawMqttClient as rawClient } from './mqtt-raw.ts';

// What the SDKs do over MQTT is in device-transports.test.ts; here, what only a raw client shows.
describe('MQTT sessions, takeover and refusals, with a raw client', () => {
  const hub = useHub();

  async function newModule() {
    const deviceId = uniqueId('mq');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'filter' });
    return { deviceId, moduleId: 'filter' };
  }

  it('when a client reconnects with clean=false, then its subscriptions survive; a second connection replaces the first', async () => {
    const { deviceId, moduleId } = await newModule();
    const clientId = `${deviceId}/${moduleId}`;
    const { createSasToken } = await import('../auth/sas.ts');
    const key = (await hub.registry.getModule(deviceId, moduleId)).responseBody.authentication!
      .symmetricKey!.primaryKey!;
    const token = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      key,
      Math.floor(Date.now() / 1000) + 600,
    );

    const first = await rawClient(hub.emulator, clientId, token, false);
    expect(await first.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: false });
    first.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [
        { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 0 },
        { topic: 'devices/other/messages/devicebound/#', qos: 1 },
      ],
    });
    expect(await first.next('suback')).toMatchObject({ granted: [0, 128] });
    first.send({ cmd: 'disconnect' });
    await first.closed;

    const second = await rawClient(hub.emulator, clientId, token, false);
    expect(await second.next('connack')).toMatchObject({ returnCode: 0, sessionPresent: true });
    await hub.registry.updateModuleTwin(
      deviceId,
      moduleId,
      { properties: { desired: { afterReconnect: true } } },
      '*',
    );
    const notification = (await second.next('publish')) as Packet & {
      topic: string;
      payload: Buffer;
    };
    expect(notification.topic).toBe('$iothub/twin/PATCH/properties/desired/?$version=2');
    expect(JSON.parse(notification.payload.toString())).toEqual({
      afterReconnect: true,
      $version: 2,
    });

    const third = await rawClient(hub.emulator, clientId, token, false);
    expect(await third.next('connack')).toMatchObject({ returnCode: 0 });
    await second.closed;

    // More than 256 KB, or a topic IoT Hub does not have: the connection is closed.
    third.send({
      cmd: 'publish',
      topic: `devices/${deviceId}/modules/${moduleId}/messages/events/`,
      payload: Buffer.alloc(300 * 1024),
      qos: 0,
      retain: false,
      dup: false,
    });
    await third.closed;
    const fourth = await rawClient(hub.emulator, clientId, token, true);
    expect(await fourth.next('connack')).toMatchObject({ returnCode: 0 });
    fourth.send({
      cmd: 'publish',
      topic: 'devices/someone-else/messages/events/',
      payload: Buffer.from('x'),
      qos: 0,
      retain: false,
      dup: false,
    });
    await fourth.closed;
    expect((await hub.registry.getModule(deviceId, moduleId)).responseBody.connectionState).toBe(
      'Disconnected',
    );

    const expired = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      key,
      Math.floor(Date.now() / 1000) - 5,
    );
    const late = await rawClient(hub.emulator, clientId, expired, true);
    expect(await late.next('connack')).toMatchObject({ returnCode: 4 });
    // A policy with DeviceConnect, scoped to this module, may connect it too.
    const devicePolicy = hub.emulator.policies.find((p) => p.keyName === 'device')!;
    const viaPolicy = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      devicePolicy.primaryKey,
      Math.floor(Date.now() / 1000) + 600,
      'device',
    );
    const policyClient = await rawClient(hub.emulator, clientId, viaPolicy, true);
    expect(await policyClient.next('connack')).toMatchObject({ returnCode: 0 });
    policyClient.end();
    const servicePolicy = hub.emulator.policies.find((p) => p.keyName === 'service')!;
    const noDeviceConnect = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      servicePolicy.primaryKey,
      Math.floor(Date.now() / 1000) + 600,
      'service',
    );
    const refused = await rawClient(hub.emulator, clientId, noDeviceConnect, true);
    expect(await refused.next('connack')).toMatchObject({ returnCode: 5 });
    const otherDevice = createSasToken(
      `${hub.emulator.hostName}:${hub.emulator.mqttPort}/devices/${deviceId}`,
      key,
      Math.floor(Date.now() / 1000) + 600,
    );
    const wrongScope = await rawClient(hub.emulator, clientId, otherDevice, true);
    expect((await wrongScope.next('connack')) as { returnCode: number }).not.toMatchObject({
      returnCode: 0,
    });
  });
});
