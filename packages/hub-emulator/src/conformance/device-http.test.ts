import { afterEach, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import httpTransport from 'azure-iot-device-http';
import { portAgentFor, serviceClientFor } from '@twinscope/hub-connection';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

const { Client: DeviceClient, Message } = deviceSdk;
type DeviceMessage = InstanceType<typeof Message>;

describe('the device HTTPS transport (azure-iot-device-http) on the service port', () => {
  const hub = useHub();
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  /** A device client on Http: a bare HostName (the SDK dials 443), and an agent to the port. */
  async function httpDevice(deviceId: string, key?: string) {
    const cs = hub.emulator
      .identityConnectionString(deviceId)
      .replace(/HostName=([^;:]+):\d+/, 'HostName=$1');
    const client = DeviceClient.fromConnectionString(
      key ? cs.replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${key}`) : cs,
      httpTransport.Http,
    );
    await client.setOptions({
      http: {
        agent: portAgentFor({ port: hub.emulator.httpsPort, ca: hub.emulator.tls.caCert }),
        receivePolicy: { interval: 0.2 },
      },
    } as never);
    closers.push(() => client.close());
    return client;
  }

  async function newDevice() {
    const deviceId = uniqueId('http');
    await hub.registry.create({ deviceId });
    return deviceId;
  }

  it('when a device sends one message and a batch over HTTPS, then each is recorded with its properties', async () => {
    const deviceId = await newDevice();
    const device = await httpDevice(deviceId);
    const from = hub.emulator.registry.sequenceNumber;
    const one = new Message('{"t":1}');
    one.messageId = 'http-1';
    one.properties.add('alert', 'yes');
    // A Plug and Play component's name: the SDK sends it as the `dt-subject` header.
    one.properties.add('dt-subject', 'thermostat2');
    await device.sendEvent(one);
    await device.sendEventBatch([new Message('a'), new Message('b')]);
    const messages = hub.emulator.changes.since(from).filter((e) => e.source === 'Telemetry');
    expect(messages.map((m) => m.message!.payload.toString())).toEqual(['{"t":1}', 'a', 'b']);
    expect(messages[0]!.message!.properties).toMatchObject({
      '$.mid': 'http-1',
      alert: 'yes',
      '$.sub': 'thermostat2',
    });
  });

  it('when the service sends, then the device polls it, completes, rejects and abandons by its own lock tokens only', async () => {
    const deviceId = await newDevice();
    const service = serviceClientFor(hub.emulator.serviceConnectionString, {
      ca: hub.emulator.tls.caCert,
      amqpPort: hub.emulator.amqpsPort,
    });
    await service.open();
    closers.push(() => service.close());
    const device = await httpDevice(deviceId);
    const received: DeviceMessage[] = [];
    device.on('message', (message: DeviceMessage) => received.push(message));
    await device.open();
    const send = (id: string) => {
      const message = new Message(`body of ${id}`);
      message.messageId = id;
      message.properties.add('colour', 'blue');
      return service.send(deviceId, message);
    };
    const next = async () => {
      await expect.poll(() => received.length, { timeout: 8000 }).toBeGreaterThan(0);
      return received.shift()!;
    };
    await send('first');
    const first = await next();
    expect(first.messageId).toBe('first');
    expect(first.data.toString()).toBe('body of first');
    expect(first.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      first.properties.propertyList.some(
        (p: { key: string; value: string }) => p.key.includes('colour') && p.value === 'blue',
      ),
    ).toBe(true);
    // Another device cannot settle this device's message with its lock token.
    const neighbour = await httpDevice(await newDevice());
    await neighbour.sendEvent(new Message('a working device'));
    await expect(neighbour.complete(first)).rejects.toThrow(/Precondition Failed/);
    await device.abandon(first);
    const again = await next();
    expect(again.messageId).toBe('first');
    await device.complete(again);
    await send('second');
    await device.reject(await next());
    await expect
      .poll(async () => (await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount)
      .toBe(0);
    // A stale lock token is refused (412 DeviceMessageLockLost; the HTTP SDK has no class for it).
    await expect(device.complete(again)).rejects.toThrow(/Precondition Failed/);
  });

  it('when a device on HTTPS asks for its twin or uses a wrong key, then the SDK says why', async () => {
    const deviceId = await newDevice();
    const device = await httpDevice(deviceId);
    await expect(device.getTwin()).rejects.toThrow(/not implemented|NotImplemented|not supported/i);
    const wrong = await httpDevice(deviceId, Buffer.alloc(32, 7).toString('base64'));
    await expectSdkError(wrong.sendEvent(new Message('x')), 'UnauthorizedError');
  });
});
