import { afterEach, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import httpTransport from 'azure-iot-device-http';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor, serviceClientFor } from '@twinscope/hub-connection';
import { createCa, deviceCertificate, type DeviceCertificate } from './device-certificates.ts';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

const { Client: DeviceClient, Message } = deviceSdk;
type DeviceMessage = InstanceType<typeof Message>;

// The hub trusts `trusted` (as a hub trusts a verified CA certificate), not `stranger`.
const trusted = await createCa('Twinscope test device CA');
const stranger = await createCa('A CA the hub never saw');

const TRANSPORTS = [
  { name: 'MQTT', transport: mqttTransport.Mqtt, kind: 'mqtt' as const },
  { name: 'AMQP', transport: amqpTransport.Amqp, kind: 'amqp' as const },
  { name: 'MQTT over WebSockets', transport: mqttTransport.MqttWs, kind: 'mqttws' as const },
  { name: 'AMQP over WebSockets', transport: amqpTransport.AmqpWs, kind: 'amqpws' as const },
  { name: 'HTTPS', transport: httpTransport.Http, kind: 'http' as const },
];
type Kind = (typeof TRANSPORTS)[number]['kind'];

function useX509Hub() {
  const hub = useHub({ trustedCaCerts: [trusted.cert.toString('pem')] });
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  /**
   * An `x509=true` connection string as the portal gives one. MQTT and AMQP carry their
   * port in HostName; the WebSocket and HTTPS transports dial 443, so the SDK's own agent
   * option takes them to the emulator's HTTPS port.
   */
  const connectionString = (kind: Kind, deviceId: string) => {
    const { hostName, mqttPort, amqpsPort } = hub.emulator;
    const port = kind === 'mqtt' ? `:${mqttPort}` : kind === 'amqp' ? `:${amqpsPort}` : '';
    return `HostName=${hostName}${port};DeviceId=${deviceId};x509=true`;
  };
  const transportOptions = (kind: Kind, certificate: DeviceCertificate) => {
    const ca = hub.emulator.tls.caCert;
    const agent = portAgentFor({ port: hub.emulator.httpsPort, ca });
    const base = { cert: certificate.cert, key: certificate.key, ca };
    if (kind === 'mqttws') return { ...base, mqtt: { webSocketAgent: agent } };
    if (kind === 'amqpws') return { ...base, amqp: { webSocketAgent: agent } };
    if (kind === 'http') return { ...base, http: { agent, receivePolicy: { interval: 0.2 } } };
    return base;
  };

  async function device(
    entry: (typeof TRANSPORTS)[number],
    deviceId: string,
    certificate: DeviceCertificate,
  ) {
    const client = DeviceClient.fromConnectionString(
      connectionString(entry.kind, deviceId),
      entry.transport,
    );
    closers.push(() => client.close());
    await client.setOptions(transportOptions(entry.kind, certificate) as never);
    return client;
  }

  async function selfSignedDevice(certificate: DeviceCertificate, secondary?: string) {
    const deviceId = uniqueId('x509');
    await hub.registry.create({
      deviceId,
      authentication: {
        type: 'selfSigned',
        x509Thumbprint: {
          primaryThumbprint: certificate.sha1,
          ...(secondary ? { secondaryThumbprint: secondary } : {}),
        },
      },
    });
    return deviceId;
  }

  async function caDevice() {
    const deviceId = uniqueId('x509ca');
    await hub.registry.create({ deviceId, authentication: { type: 'certificateAuthority' } });
    return deviceId;
  }

  /**
   * What fails for a refused certificate: MQTT's CONNECT; over AMQP (no $cbs for X.509) the
   * first link, as on IoT Hub, which learns the device from the link's address; over HTTPS
   * the first request.
   */
  const attempt = async (client: InstanceType<typeof DeviceClient>, kind: Kind) => {
    if (kind === 'mqtt' || kind === 'mqttws') return client.open();
    await client.open();
    return client.sendEvent(new Message('refused?'));
  };

  /** The telemetry the hub recorded for a device since `from`, as text. */
  const recorded = (deviceId: string, from: number) =>
    hub.emulator.changes
      .since(from)
      .filter((e) => e.source === 'Telemetry' && e.deviceId === deviceId)
      .map((e) => e.message!.payload.toString());

  return {
    hub,
    closers,
    connectionString,
    transportOptions,
    device,
    attempt,
    selfSignedDevice,
    caDevice,
    recorded,
  };
}

describe.each(TRANSPORTS)('X.509 devices over $name with the unmodified SDK', (entry) => {
  const x = useX509Hub();
  const { hub } = x;

  it('when a self-signed device presents the certificate of its thumbprint, then it connects and its messages arrive; another certificate is refused', async () => {
    const certificate = await deviceCertificate('thermostat');
    const deviceId = await x.selfSignedDevice(certificate);
    const from = hub.emulator.registry.sequenceNumber;
    const client = await x.device(entry, deviceId, certificate);
    await client.open();
    await client.sendEvent(new Message(`from ${entry.kind}`));
    expect(x.recorded(deviceId, from)).toEqual([`from ${entry.kind}`]);
    const identity = (await hub.registry.get(deviceId)).responseBody;
    expect(identity.lastActivityTime).not.toBe('0001-01-01T00:00:00Z');
    if (entry.kind !== 'http') expect(identity.connectionState).toBe('Connected');

    const impostor = await x.device(entry, deviceId, await deviceCertificate('thermostat'));
    await expectSdkError(x.attempt(impostor, entry.kind), 'UnauthorizedError');
    expect(x.recorded(deviceId, from)).toHaveLength(1);
  });

  it('when a CA-signed device presents a certificate from a trusted CA, then it connects; one from an unknown CA is refused', async () => {
    const deviceId = await x.caDevice();
    const from = hub.emulator.registry.sequenceNumber;
    const client = await x.device(
      entry,
      deviceId,
      await deviceCertificate(deviceId, { ca: trusted }),
    );
    await client.open();
    await client.sendEvent(new Message('signed'));
    expect(x.recorded(deviceId, from)).toEqual(['signed']);

    const outsider = await x.device(
      entry,
      deviceId,
      await deviceCertificate(deviceId, { ca: stranger }),
    );
    await expectSdkError(x.attempt(outsider, entry.kind), 'UnauthorizedError');
  });

  it('when the service sends to an X.509 device, then the device receives it as sent and completes it', async () => {
    const certificate = await deviceCertificate('c2d');
    const deviceId = await x.selfSignedDevice(certificate);
    const client = await x.device(entry, deviceId, certificate);
    const received = new Promise<DeviceMessage>((resolve) => client.on('message', resolve));
    await client.open();
    const service = serviceClientFor(hub.emulator.serviceConnectionString, {
      ca: hub.emulator.tls.caCert,
      amqpPort: hub.emulator.amqpsPort,
    });
    x.closers.push(() => service.close());
    await service.open();
    await service.send(deviceId, new Message('hello certificate'));
    const message = await received;
    expect(message.data.toString()).toBe('hello certificate');
    // No feedback asked for, no user properties: the hub adds none of its own (no iothub-ack).
    expect(message.properties.propertyList).toEqual([]);
    await client.complete(message);
    await expect
      .poll(async () => (await hub.registry.get(deviceId)).responseBody.cloudToDeviceMessageCount)
      .toBe(0);
  });
});

describe('X.509 rules, as IoT Hub applies them', () => {
  const x = useX509Hub();
  const { hub } = x;
  const [mqtt, amqp] = [TRANSPORTS[0]!, TRANSPORTS[1]!];

  it('when the certificate matches the secondary thumbprint or a SHA-256 one, then the device connects', async () => {
    const primary = await deviceCertificate('rotating');
    const secondary = await deviceCertificate('rotating');
    const deviceId = await x.selfSignedDevice(primary, secondary.sha256);
    for (const certificate of [primary, secondary]) {
      const client = await x.device(mqtt, deviceId, certificate);
      await client.open();
      await client.close();
    }
  });

  it('when the certificate has expired, names another device, or the device uses keys, then it is refused', async () => {
    const expired = await deviceCertificate('old', { expired: true });
    const expiredDevice = await x.selfSignedDevice(expired);
    await expectSdkError(
      x.attempt(await x.device(amqp, expiredDevice, expired), 'amqp'),
      'UnauthorizedError',
    );

    const caDevice = await x.caDevice();
    const namedOther = await deviceCertificate('someone-else', { ca: trusted });
    await expectSdkError((await x.device(mqtt, caDevice, namedOther)).open(), 'UnauthorizedError');

    const keyDevice = uniqueId('keys');
    await hub.registry.create({ deviceId: keyDevice });
    const any = await deviceCertificate(keyDevice, { ca: trusted });
    await expectSdkError((await x.device(mqtt, keyDevice, any)).open(), 'UnauthorizedError');
    for (const id of [expiredDevice, caDevice, keyDevice])
      expect((await hub.registry.get(id)).responseBody.connectionState).toBe('Disconnected');
  });

  it('when a disabled X.509 device connects, then it is refused', async () => {
    const certificate = await deviceCertificate('off');
    const deviceId = await x.selfSignedDevice(certificate);
    const { responseBody } = await hub.registry.get(deviceId);
    await hub.registry.update({ ...responseBody, status: 'disabled' });
    for (const entry of [mqtt, amqp]) {
      await expectSdkError(
        x.attempt(await x.device(entry, deviceId, certificate), entry.kind),
        'UnauthorizedError',
      );
    }
  });
});
