import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import mqttTransport from 'azure-iot-device-mqtt';
import iothub from 'azure-iothub';
import { serviceClientFor } from '@twinscope/hub-connection';
import { expectSdkError } from './sdk-errors.ts';
import { startEmulator } from '../emulator.ts';
import { sdkRegistry, uniqueId, useHub } from './hub.ts';

const { Client: DeviceClient } = deviceSdk;
type DeviceMessage = InstanceType<typeof deviceSdk.Message>;
type FeedbackRecord = { originalMessageId: string; statusCode: string; deviceId: string };

describe('cloud-to-device messaging with the unmodified service and device SDKs', () => {
  const hub = useHub({ feedbackBatchMs: 100 });
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  async function service() {
    const client = serviceClientFor(hub.emulator.serviceConnectionString, {
      ca: hub.emulator.tls.caCert,
      amqpPort: hub.emulator.amqpsPort,
    });
    await client.open();
    closers.push(() => client.close());
    return client;
  }

  async function newDevice() {
    const deviceId = uniqueId('c2d');
    await hub.registry.create({ deviceId });
    return deviceId;
  }

  async function openDevice(deviceId: string, kind: 'mqtt' | 'amqp') {
    const device = DeviceClient.fromConnectionString(
      hub.emulator.identityConnectionString(deviceId, undefined, kind),
      kind === 'mqtt' ? mqttTransport.Mqtt : amqpTransport.Amqp,
    );
    await device.setOptions({ ca: hub.emulator.tls.caCert });
    await device.open();
    closers.push(() => device.close());
    return device;
  }

  /** Messages the device receives, as they come. */
  function inbox(device: InstanceType<typeof DeviceClient>) {
    const messages: DeviceMessage[] = [];
    const waiters: (() => void)[] = [];
    device.on('message', (message: DeviceMessage) => {
      messages.push(message);
      waiters.splice(0).forEach((w) => w());
    });
    return {
      messages,
      async next(): Promise<DeviceMessage> {
        const deadline = Date.now() + 8000;
        while (messages.length === 0) {
          if (Date.now() > deadline) throw new Error('no cloud-to-device message arrived');
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            setTimeout(resolve, 100);
          });
        }
        return messages.shift()!;
      },
    };
  }

  /** Feedback records, as the service's feedback receiver gets them (each batch completed). */
  async function feedback(client: iothub.Client) {
    const records: FeedbackRecord[] = [];
    const { result: receiver } = await client.getFeedbackReceiver();
    receiver.on('message', (message: { data: Buffer }) => {
      records.push(...(JSON.parse(message.data.toString()) as FeedbackRecord[]));
      void receiver.complete(message as never);
    });
    return {
      async until(predicate: (record: FeedbackRecord) => boolean): Promise<FeedbackRecord> {
        await expect.poll(() => records.some(predicate), { timeout: 8000 }).toBe(true);
        return records.find(predicate)!;
      },
    };
  }

  const message = (data: string, messageId: string, ack?: string) => {
    const m = new deviceSdk.Message(data);
    m.messageId = messageId;
    if (ack) m.ack = ack;
    m.properties.add('colour', 'blue & green');
    return m;
  };

  it.each(['mqtt', 'amqp'] as const)(
    'when the service sends to a device on %s, then it arrives with its properties, and completing it gives Success feedback',
    async (kind) => {
      const deviceId = await newDevice();
      const client = await service();
      const acks = await feedback(client);
      const device = await openDevice(deviceId, kind);
      const received = inbox(device);
      const sent = await client.send(deviceId, message('{"cmd":"reboot"}', `m-${kind}`, 'full'));
      expect(sent.result.constructor.name).toBe('MessageEnqueued');
      const arrived = await received.next();
      expect(arrived.data.toString()).toBe('{"cmd":"reboot"}');
      expect(arrived.messageId).toBe(`m-${kind}`);
      expect(arrived.to).toBe(`/devices/${deviceId}/messages/devicebound`);
      const props = arrived.properties.propertyList.map((p: { key: string; value: string }) => [
        p.key,
        p.value,
      ]);
      expect(props).toContainEqual(['colour', 'blue & green']);
      await device.complete(arrived);
      expect(await acks.until((r) => r.originalMessageId === `m-${kind}`)).toMatchObject({
        statusCode: 'Success',
        deviceId,
      });
      expect((await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount).toBe(0);
    },
  );

  it('when a device on AMQP rejects one and abandons another, then Rejected feedback comes and the abandoned one comes back', async () => {
    const deviceId = await newDevice();
    const client = await service();
    const acks = await feedback(client);
    const device = await openDevice(deviceId, 'amqp');
    const received = inbox(device);
    await client.send(deviceId, message('no', 'refuse-me', 'negative'));
    const refused = await received.next();
    await device.reject(refused);
    expect(await acks.until((r) => r.originalMessageId === 'refuse-me')).toMatchObject({
      statusCode: 'Rejected',
    });
    await client.send(deviceId, message('later', 'later-me', 'full'));
    const first = await received.next();
    await device.abandon(first);
    const again = await received.next();
    expect(again.messageId).toBe('later-me');
    await device.complete(again);
    expect(await acks.until((r) => r.originalMessageId === 'later-me')).toMatchObject({
      statusCode: 'Success',
    });
  });

  it('when a device on MQTT tries to reject or abandon, then the SDK says MQTT cannot', async () => {
    const deviceId = await newDevice();
    const client = await service();
    const device = await openDevice(deviceId, 'mqtt');
    const received = inbox(device);
    await client.send(deviceId, message('x', 'mqtt-one'));
    const arrived = await received.next();
    const thrown = (settle: () => void) => {
      try {
        settle();
      } catch (error) {
        return (error as Error).constructor.name;
      }
      return 'nothing';
    };
    // MQTT acknowledges by PUBACK, which the SDK sends on receipt: there is no taking it back.
    expect(thrown(() => device.reject(arrived, () => undefined))).toBe('NotImplementedError');
    expect(thrown(() => device.abandon(arrived, () => undefined))).toBe('NotImplementedError');
    await expect
      .poll(async () => (await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount)
      .toBe(0);
  });

  it('when a message is abandoned ten times, then it is dead-lettered with DeliveryCountExceeded', async () => {
    const deviceId = await newDevice();
    const client = await service();
    const acks = await feedback(client);
    const device = await openDevice(deviceId, 'amqp');
    const received = inbox(device);
    await client.send(deviceId, message('poison', 'poison', 'negative'));
    for (let i = 0; i < 10; i++) await device.abandon(await received.next());
    expect(await acks.until((r) => r.originalMessageId === 'poison')).toMatchObject({
      statusCode: 'DeliveryCountExceeded',
    });
  });

  it('when a message expires before the device takes it, then Expired feedback comes and it is never delivered', async () => {
    const deviceId = await newDevice();
    const client = await service();
    const acks = await feedback(client);
    const short = message('stale', 'stale', 'negative');
    short.expiryTimeUtc = Date.now() + 500;
    await client.send(deviceId, short);
    expect(await acks.until((r) => r.originalMessageId === 'stale')).toMatchObject({
      statusCode: 'Expired',
    });
    const device = await openDevice(deviceId, 'amqp');
    const received = inbox(device);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received.messages).toHaveLength(0);
  });

  it('when a queue holds 50, then the 51st is refused; the count shows, and a purge empties it with Purged feedback', async () => {
    const deviceId = await newDevice();
    const client = await service();
    const acks = await feedback(client);
    for (let i = 0; i < 50; i++) await client.send(deviceId, message(`#${i}`, `q-${i}`, 'full'));
    await expectSdkError(
      client.send(deviceId, message('one too many', 'q-50')),
      'DeviceMaximumQueueDepthExceededError',
    );
    expect((await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount).toBe(50);
    const purged = await hub.raw.send(
      'DELETE',
      `/devices/${deviceId}/commands?api-version=2021-04-12`,
    );
    expect(purged.json).toEqual({ totalMessagesPurged: 50, deviceId, moduleId: null });
    expect((await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount).toBe(0);
    expect(await acks.until((r) => r.originalMessageId === 'q-49')).toMatchObject({
      statusCode: 'Purged',
    });
  });

  it('when the target device is unknown or the message too large, then the send is refused with the SDK error', async () => {
    const client = await service();
    await expectSdkError(client.send('ghost-device', message('x', 'ghost')), 'DeviceNotFoundError');
    const deviceId = await newDevice();
    await expectSdkError(
      client.send(deviceId, message('x'.repeat(65 * 1024), 'huge')),
      'MessageTooLargeError',
    );
  });
});

describe('cloud-to-device queues are kept with the rest of the state', () => {
  it('when the hub restarts on its data dir, then queued messages are still delivered and counted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'c2d-'));
    const options = { dataDir, httpsPort: 0, mqttPort: 0 };
    let emulator = await startEmulator(options);
    const registry = sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert);
    await registry.create({ deviceId: 'durable' });
    const client = serviceClientFor(emulator.serviceConnectionString, {
      ca: emulator.tls.caCert,
      amqpPort: emulator.amqpsPort,
    });
    await client.open();
    const kept = new deviceSdk.Message('survives a restart');
    kept.messageId = 'kept';
    await client.send('durable', kept);
    await client.close();
    await emulator.close();

    emulator = await startEmulator(options);
    try {
      const again = sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert);
      expect((await again.get('durable')).responseBody.cloudToDeviceMessageCount).toBe(1);
      const device = DeviceClient.fromConnectionString(
        emulator.identityConnectionString('durable', undefined, 'amqp'),
        amqpTransport.Amqp,
      );
      await device.setOptions({ ca: emulator.tls.caCert });
      const arrived = new Promise<DeviceMessage>((resolve) => device.on('message', resolve));
      await device.open();
      const message = await arrived;
      expect(message.messageId).toBe('kept');
      await device.complete(message);
      await device.close();
      await expect
        .poll(async () => (await again.get('durable')).responseBody.cloudToDeviceMessageCount)
        .toBe(0);
    } finally {
      await emulator.close();
    }
  });
});
