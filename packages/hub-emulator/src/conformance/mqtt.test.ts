import type { Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';
import { rawMqttClient as rawClient } from './mqtt-raw.ts';

const { ModuleClient, Client: DeviceClient, Message } = deviceSdk;
const { Mqtt } = mqttTransport;

type Twin = Awaited<ReturnType<InstanceType<typeof DeviceClient>['getTwin']>>;

function reportedUpdate(twin: Twin, patch: object): Promise<void> {
  return new Promise((resolve, reject) =>
    twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())),
  );
}

function nextDesired(
  twin: Twin,
  predicate: (delta: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const handler = (delta: Record<string, unknown>) => {
      if (!predicate(delta)) return;
      twin.removeListener('properties.desired', handler);
      resolve(delta);
    };
    twin.on('properties.desired', handler);
  });
}

describe('MQTT: unmodified azure-iot-device clients against the emulator', () => {
  const hub = useHub();

  async function newModule() {
    const deviceId = uniqueId('mq');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'filter' });
    return { deviceId, moduleId: 'filter' };
  }

  async function openModule(deviceId: string, moduleId: string) {
    const client = ModuleClient.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId, moduleId),
      Mqtt,
    );
    await client.setOptions({ ca: hub.emulator.tls.caCert });
    await client.open();
    return client;
  }

  it('when a module connects with its connection string, then it reads its twin, reports, and shows as connected', async () => {
    const { deviceId, moduleId } = await newModule();
    await hub.registry.updateModuleTwin(
      deviceId,
      moduleId,
      { properties: { desired: { threshold: 7 } } },
      '*',
    );
    const client = await openModule(deviceId, moduleId);
    try {
      expect((await hub.registry.getModule(deviceId, moduleId)).responseBody.connectionState).toBe(
        'Connected',
      );
      const twin = await client.getTwin();
      expect(twin.properties.desired['threshold']).toBe(7);
      expect(twin.properties.desired.$version).toBe(2);
      await reportedUpdate(twin, {
        DateTimeLastAppLaunch: '2026-11-26T00:00:00Z',
        nested: { a: 1 },
      });
      const { responseBody } = await hub.registry.getModuleTwin(deviceId, moduleId);
      expect(responseBody.properties.reported['DateTimeLastAppLaunch']).toBe(
        '2026-11-26T00:00:00Z',
      );
      expect(responseBody.properties.reported.$version).toBe(2);
    } finally {
      await client.close();
    }
    expect((await hub.registry.getModule(deviceId, moduleId)).responseBody.connectionState).toBe(
      'Disconnected',
    );
  });

  it('when desired properties change, then the module is notified with $version +1 and nulls for removed keys', async () => {
    const { deviceId, moduleId } = await newModule();
    const client = await openModule(deviceId, moduleId);
    try {
      const twin = await client.getTwin();
      const first = nextDesired(twin, (d) => d['mode'] === 'eco');
      await hub.registry.updateModuleTwin(
        deviceId,
        moduleId,
        { properties: { desired: { mode: 'eco', keep: 1 } } },
        '*',
      );
      expect(await first).toEqual({ mode: 'eco', keep: 1, $version: 2 });
      const cleared = nextDesired(twin, (d) => d['$version'] === 3);
      await hub.registry.updateModuleTwin(
        deviceId,
        moduleId,
        { properties: { desired: null } },
        '*',
      );
      expect(await cleared).toEqual({ mode: null, keep: null, $version: 3 });
      expect(twin.properties.desired['mode']).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('when a reported patch breaks twin rules, then the SDK call fails and the twin is unchanged', async () => {
    const { deviceId, moduleId } = await newModule();
    const client = await openModule(deviceId, moduleId);
    try {
      const twin = await client.getTwin();
      await expect(reportedUpdate(twin, { 'bad.key': 1 })).rejects.toThrow(/bad\.key/);
      expect(
        (await hub.registry.getModuleTwin(deviceId, moduleId)).responseBody.properties.reported
          .$version,
      ).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('when a direct method is invoked, then the module answers; offline is 404, silence is 504', async () => {
    const { deviceId, moduleId } = await newModule();
    const path = `/twins/${deviceId}/modules/${moduleId}/methods?api-version=2021-04-12`;
    const offline = await hub.raw.send('POST', path, {
      body: JSON.stringify({ methodName: 'reboot' }),
    });
    expect(offline.status).toBe(404);
    expect(offline.headers['iothub-errorcode']).toBe('DeviceNotOnline');
    const client = await openModule(deviceId, moduleId);
    try {
      client.onMethod('reboot', (request, response) => {
        void response!.send(200, { rebootIn: (request!.payload as { delay: number }).delay });
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const answered = await hub.raw.send('POST', path, {
        body: JSON.stringify({
          methodName: 'reboot',
          payload: { delay: 5 },
          responseTimeoutInSeconds: 10,
        }),
      });
      expect(answered.status).toBe(200);
      expect(answered.json).toEqual({ status: 200, payload: { rebootIn: 5 } });
      client.onMethod('hang', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const silent = await hub.raw.send('POST', path, {
        body: JSON.stringify({ methodName: 'hang', responseTimeoutInSeconds: 5 }),
      });
      expect(silent.status).toBe(504);
    } finally {
      await client.close();
    }
  }, 20_000);

  it('when a device sends telemetry and a module an output event, then both are acknowledged and logged', async () => {
    const { deviceId, moduleId } = await newModule();
    const from = hub.emulator.registry.sequenceNumber;
    const device = DeviceClient.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId),
      Mqtt,
    );
    await device.setOptions({ ca: hub.emulator.tls.caCert });
    await device.open();
    const module = await openModule(deviceId, moduleId);
    try {
      const message = new Message(JSON.stringify({ temperature: 21.5 }));
      message.messageId = 'm-1';
      message.properties.add('alert', 'hi there');
      await device.sendEvent(message);
      await module.sendOutputEvent('out1', new Message('filtered'));
      const messages = hub.emulator.changes.since(from).filter((e) => e.source === 'Telemetry');
      expect(messages.map((m) => [m.deviceId, m.moduleId])).toEqual([
        [deviceId, undefined],
        [deviceId, moduleId],
      ]);
      expect(messages[0]!.message!.properties).toMatchObject({ '$.mid': 'm-1', alert: 'hi there' });
      expect(JSON.parse(messages[0]!.message!.payload.toString())).toEqual({ temperature: 21.5 });
      expect(messages[1]!.message!.properties['$.on']).toBe('out1');
    } finally {
      await device.close();
      await module.close();
    }
  });

  it('when the key is wrong, the identity unknown or the device disabled, then the connection is refused', async () => {
    const { deviceId, moduleId } = await newModule();
    const good = hub.emulator.identityConnectionString(deviceId, moduleId);
    const attempts = [
      good.replace(
        /SharedAccessKey=[^;]+/,
        `SharedAccessKey=${Buffer.alloc(32, 3).toString('base64')}`,
      ),
      good.replace(`ModuleId=${moduleId}`, 'ModuleId=ghost'),
    ];
    for (const connectionString of attempts) {
      const client = ModuleClient.fromConnectionString(connectionString, Mqtt);
      await client.setOptions({ ca: hub.emulator.tls.caCert });
      await expectSdkError(client.open(), 'UnauthorizedError');
    }
    const { responseBody: device } = await hub.registry.get(deviceId);
    await hub.registry.update({ ...device, status: 'disabled' });
    const client = ModuleClient.fromConnectionString(good, Mqtt);
    await client.setOptions({ ca: hub.emulator.tls.caCert });
    await expectSdkError(client.open(), 'UnauthorizedError');
  });

  it('when a client reconnects with clean=false, then its subscriptions survive; a second connection replaces the first', async () => {
    const { deviceId, moduleId } = await newModule();
    const clientId = `${deviceId}/${moduleId}`;
    const { createSasToken } = await import('../auth/sas.ts');
    const key = (await hub.registry.getModule(deviceId, moduleId)).responseBody.authentication!
      .symmetricKey!.primaryKey!;
    const token = createSasToken(
      `localhost:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      key,
      Math.floor(Date.now() / 1000) + 600,
    );
    const ca = hub.emulator.tls.caCert;

    const first = await rawClient(hub.emulator.mqttPort, ca, clientId, token, false);
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

    const second = await rawClient(hub.emulator.mqttPort, ca, clientId, token, false);
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

    const third = await rawClient(hub.emulator.mqttPort, ca, clientId, token, false);
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
    const fourth = await rawClient(hub.emulator.mqttPort, ca, clientId, token, true);
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
      `localhost:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      key,
      Math.floor(Date.now() / 1000) - 5,
    );
    const late = await rawClient(hub.emulator.mqttPort, ca, clientId, expired, true);
    expect(await late.next('connack')).toMatchObject({ returnCode: 4 });
    // A policy with DeviceConnect, scoped to this module, may connect it too.
    const devicePolicy = hub.emulator.policies.find((p) => p.keyName === 'device')!;
    const viaPolicy = createSasToken(
      `localhost:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      devicePolicy.primaryKey,
      Math.floor(Date.now() / 1000) + 600,
      'device',
    );
    const policyClient = await rawClient(hub.emulator.mqttPort, ca, clientId, viaPolicy, true);
    expect(await policyClient.next('connack')).toMatchObject({ returnCode: 0 });
    policyClient.end();
    const servicePolicy = hub.emulator.policies.find((p) => p.keyName === 'service')!;
    const noDeviceConnect = createSasToken(
      `localhost:${hub.emulator.mqttPort}/devices/${deviceId}/modules/${moduleId}`,
      servicePolicy.primaryKey,
      Math.floor(Date.now() / 1000) + 600,
      'service',
    );
    const refused = await rawClient(hub.emulator.mqttPort, ca, clientId, noDeviceConnect, true);
    expect(await refused.next('connack')).toMatchObject({ returnCode: 5 });
    const otherDevice = createSasToken(
      `localhost:${hub.emulator.mqttPort}/devices/${deviceId}`,
      key,
      Math.floor(Date.now() / 1000) + 600,
    );
    const wrongScope = await rawClient(hub.emulator.mqttPort, ca, clientId, otherDevice, true);
    expect((await wrongScope.next('connack')) as { returnCode: number }).not.toMatchObject({
      returnCode: 0,
    });
  });
});
