import { randomUUID } from 'node:crypto';
import {
  EventHubConsumerClient,
  earliestEventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import { describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import amqpTransport from 'azure-iot-device-amqp';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor } from '@twinscope/hub-connection';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';
import { useEventConsumers } from './event-consumers.ts';

const { ModuleClient, Client: DeviceClient, Message } = deviceSdk;
const { track, collect } = useEventConsumers();

type Twin = Awaited<ReturnType<InstanceType<typeof DeviceClient>['getTwin']>>;

function reportedUpdate(twin: Twin, patch: object): Promise<void> {
  return new Promise((resolve, reject) =>
    twin.properties.reported.update(patch, (error?: Error) => (error ? reject(error) : resolve())),
  );
}

/**
 * Waits until desired notifications flow: over AMQP the SDK subscribes only when the first
 * desired listener is added, and a change made before the hub has the subscription is not
 * pushed (as on a real hub). Probes until one arrives; answers the desired $version then.
 */
async function desiredFlowing(
  twin: Twin,
  change: (probe: number) => Promise<unknown>,
): Promise<number> {
  for (let probe = 1; probe <= 25; probe++) {
    const arrived = nextDesired(twin, (d) => d['probe'] === probe);
    await change(probe);
    const delta = await Promise.race([
      arrived,
      new Promise<undefined>((resolve) => setTimeout(resolve, 200)),
    ]);
    if (delta) return delta['$version'] as number;
  }
  throw new Error('desired notifications never arrived');
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

/**
 * The same device-side scenarios, with the unmodified SDK, over each transport. The
 * WebSocket transports dial 443 whatever HostName says: here they reach the emulator's
 * HTTPS port through the SDK's own `webSocketAgent` option (port-443.test.ts dials 443).
 */
const TRANSPORTS = [
  { name: 'MQTT', transport: mqttTransport.Mqtt, kind: 'mqtt' as const },
  { name: 'AMQP', transport: amqpTransport.Amqp, kind: 'amqp' as const },
  { name: 'MQTT over WebSockets', transport: mqttTransport.MqttWs, kind: 'mqttws' as const },
  { name: 'AMQP over WebSockets', transport: amqpTransport.AmqpWs, kind: 'amqpws' as const },
];

describe.each(TRANSPORTS)(
  'device side over $name with the unmodified SDK',
  ({ transport, kind }) => {
    const hub = useHub();

    async function newModule() {
      const deviceId = uniqueId(kind);
      await hub.registry.create({ deviceId });
      await hub.registry.addModule({ deviceId, moduleId: 'filter' });
      return { deviceId, moduleId: 'filter' };
    }

    const connectionString = (deviceId: string, moduleId?: string) =>
      kind === 'mqtt' || kind === 'amqp'
        ? hub.emulator.identityConnectionString(deviceId, moduleId, kind)
        : // HostName without a port: the agent below says where to dial.
          hub.emulator
            .identityConnectionString(deviceId, moduleId)
            .replace(/HostName=([^;:]+):\d+/, 'HostName=$1');

    /** The SDK's options for this transport: the hub's CA, and for WebSockets the agent. */
    const options = () => {
      const ca = hub.emulator.tls.caCert;
      const webSocketAgent = portAgentFor({ port: hub.emulator.httpsPort, ca });
      if (kind === 'mqttws') return { ca, mqtt: { webSocketAgent } };
      if (kind === 'amqpws') return { ca, amqp: { webSocketAgent } };
      return { ca };
    };

    async function openModule(deviceId: string, moduleId: string) {
      const client = ModuleClient.fromConnectionString(
        connectionString(deviceId, moduleId),
        transport,
      );
      await client.setOptions(options());
      await client.open();
      return client;
    }

    it('when a module connects, then it reads its twin, reports, and shows as connected until it closes', async () => {
      const { deviceId, moduleId } = await newModule();
      await hub.registry.updateModuleTwin(
        deviceId,
        moduleId,
        { properties: { desired: { interval: 10 } } },
        '*',
      );
      const client = await openModule(deviceId, moduleId);
      try {
        const twin = await client.getTwin();
        expect(twin.properties.desired['interval']).toBe(10);
        expect(twin.properties.desired.$version).toBe(2);
        expect(
          (await hub.registry.getModule(deviceId, moduleId)).responseBody.connectionState,
        ).toBe('Connected');
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
      await expect
        .poll(
          async () =>
            (await hub.registry.getModule(deviceId, moduleId)).responseBody.connectionState,
        )
        .toBe('Disconnected');
    });

    it('when desired properties change, then the module is notified with $version +1 and nulls for removed keys', async () => {
      const { deviceId, moduleId } = await newModule();
      const client = await openModule(deviceId, moduleId);
      try {
        const twin = await client.getTwin();
        const desired = (patch: object | null) =>
          hub.registry.updateModuleTwin(
            deviceId,
            moduleId,
            { properties: { desired: patch } },
            '*',
          );
        const version = await desiredFlowing(twin, (probe) => desired({ probe }));
        const first = nextDesired(twin, (d) => d['mode'] === 'eco');
        await desired({ mode: 'eco', keep: 1 });
        expect(await first).toEqual({ mode: 'eco', keep: 1, $version: version + 1 });
        const cleared = nextDesired(twin, (d) => d['$version'] === version + 2);
        await desired(null);
        expect(await cleared).toEqual({
          mode: null,
          keep: null,
          probe: null,
          $version: version + 2,
        });
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
        await new Promise((resolve) => setTimeout(resolve, 300));
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

    it('when a method is invoked with a connect timeout, then it waits for the module to come online and listen; past the timeout it is 404; out-of-range timeouts are 400', async () => {
      const { deviceId, moduleId } = await newModule();
      const path = `/twins/${deviceId}/modules/${moduleId}/methods?api-version=2021-04-12`;
      for (const connectTimeoutInSeconds of [-1, 301, 'soon'])
        expect(
          (
            await hub.raw.send('POST', path, {
              body: JSON.stringify({ methodName: 'ping', connectTimeoutInSeconds }),
            })
          ).status,
        ).toBe(400);
      const startedAt = Date.now();
      const waited = await hub.raw.send('POST', path, {
        body: JSON.stringify({ methodName: 'ping', connectTimeoutInSeconds: 1 }),
      });
      expect(waited.status).toBe(404);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
      const call = hub.raw.send('POST', path, {
        body: JSON.stringify({
          methodName: 'ping',
          connectTimeoutInSeconds: 20,
          responseTimeoutInSeconds: 5,
        }),
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const client = await openModule(deviceId, moduleId);
      try {
        client.onMethod('ping', (_request, response) => void response!.send(200, 'pong'));
        const answered = await call;
        expect(answered.status).toBe(200);
        expect(answered.json).toEqual({ status: 200, payload: 'pong' });
      } finally {
        await client.close();
      }
    }, 20_000);

    it('when a device sends telemetry and a module an empty output event, then both are acknowledged and read back from the Event Hubs endpoint with their ids', async () => {
      const { deviceId, moduleId } = await newModule();
      const from = hub.emulator.registry.sequenceNumber;
      const device = DeviceClient.fromConnectionString(connectionString(deviceId), transport);
      await device.setOptions(options());
      await device.open();
      const module = await openModule(deviceId, moduleId);
      try {
        const message = new Message(JSON.stringify({ temperature: 21.5 }));
        message.messageId = 'm-1';
        message.properties.add('alert', 'hi there');
        // A Plug and Play component's name: the SDK sends it as MQTT's `$.sub`, as AMQP's
        // `dt-subject` annotation (as the C, C# and Python SDKs do).
        message.properties.add('dt-subject', 'thermostat1');
        await device.sendEvent(message);
        // An empty message with a uuid id (which the AMQP transport sends as an AMQP uuid).
        const empty = new Message('');
        empty.messageId = randomUUID();
        await module.sendOutputEvent('out1', empty);
        const messages = hub.emulator.changes.since(from).filter((e) => e.source === 'Telemetry');
        expect(messages.map((m) => [m.deviceId, m.moduleId])).toEqual([
          [deviceId, undefined],
          [deviceId, moduleId],
        ]);
        expect(messages[0]!.message!.properties).toMatchObject({
          '$.mid': 'm-1',
          alert: 'hi there',
        });
        expect(JSON.parse(messages[0]!.message!.payload.toString())).toEqual({ temperature: 21.5 });
        expect(messages[1]!.message!.properties).toMatchObject({
          '$.on': 'out1',
          '$.mid': empty.messageId,
        });
        expect(messages[1]!.message!.payload).toHaveLength(0);

        // Read back as a back end reads them: from the Event Hubs-compatible endpoint.
        const received = collect(
          track(new EventHubConsumerClient('$Default', hub.emulator.events.connectionString)),
          earliestEventPosition,
        );
        const ours = (e: ReceivedEventData) =>
          e.systemProperties?.['iothub-connection-device-id'] === deviceId;
        const telemetry = await received.until(
          (e) => ours(e) && !e.systemProperties?.['iothub-connection-module-id'],
        );
        const body = telemetry.body as unknown;
        expect(Buffer.isBuffer(body) ? JSON.parse(body.toString()) : body).toEqual({
          temperature: 21.5,
        });
        expect(telemetry.messageId).toBe('m-1');
        expect(telemetry.properties).toMatchObject({ alert: 'hi there' });
        // IoT Hub routes the component as the `dt-subject` annotation, not as a property.
        expect(telemetry.systemProperties?.['dt-subject']).toBe('thermostat1');
        expect(telemetry.properties).not.toHaveProperty('dt-subject');
        const output = await received.until(
          (e) => ours(e) && e.systemProperties?.['iothub-connection-module-id'] === moduleId,
        );
        expect(output.messageId).toBe(empty.messageId);
        expect(output.body === undefined || (output.body as Buffer).length === 0).toBe(true);
      } finally {
        await device.close();
        await module.close();
      }
    });

    it('when a device sends a batch, then the SDK says this transport cannot batch (HTTPS can) and nothing is recorded', async () => {
      const { deviceId } = await newModule();
      const from = hub.emulator.registry.sequenceNumber;
      const device = DeviceClient.fromConnectionString(connectionString(deviceId), transport);
      await device.setOptions(options());
      await device.open();
      try {
        await expectSdkError(
          Promise.resolve().then(() => device.sendEventBatch([new Message('a'), new Message('b')])),
          'NotImplementedError',
        );
        expect(hub.emulator.changes.since(from).filter((e) => e.source === 'Telemetry')).toEqual(
          [],
        );
      } finally {
        await device.close();
      }
    });

    it('when the device renews its token before it expires, then it carries on past the first expiry', async () => {
      const { deviceId } = await newModule();
      const key = hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!;
      // The token's resource names the host the SDK dials: with the port for MQTT and AMQP.
      const host = /HostName=([^;]+)/.exec(connectionString(deviceId))![1]!;
      const token = (seconds: number) =>
        deviceSdk.SharedAccessSignature.create(
          host,
          deviceId,
          key,
          Math.floor(Date.now() / 1000) + seconds,
        ).toString();
      const from = hub.emulator.registry.sequenceNumber;
      const device = DeviceClient.fromSharedAccessSignature(token(3), transport);
      await device.setOptions(options());
      await device.open();
      try {
        await device.sendEvent(new Message('before'));
        await device.updateSharedAccessSignature(token(3600));
        await new Promise((resolve) => setTimeout(resolve, 3500));
        await device.sendEvent(new Message('after'));
        const sent = hub.emulator.changes
          .since(from)
          .filter((e) => e.source === 'Telemetry')
          .map((e) => e.message!.payload.toString());
        expect(sent).toEqual(['before', 'after']);
        expect((await hub.registry.get(deviceId)).responseBody.connectionState).toBe('Connected');
      } finally {
        await device.close();
      }
    });

    it('when the key is wrong, the identity unknown or the device disabled, then the connection is refused', async () => {
      const { deviceId, moduleId } = await newModule();
      const good = connectionString(deviceId, moduleId);
      const attempts = [
        good.replace(
          /SharedAccessKey=[^;]+/,
          `SharedAccessKey=${Buffer.alloc(32, 3).toString('base64')}`,
        ),
        good.replace(`ModuleId=${moduleId}`, 'ModuleId=ghost'),
      ];
      for (const connectionString of attempts) {
        const client = ModuleClient.fromConnectionString(connectionString, transport);
        await client.setOptions(options());
        await expectSdkError(client.open(), 'UnauthorizedError');
      }
      const { responseBody: device } = await hub.registry.get(deviceId);
      await hub.registry.update({ ...device, status: 'disabled' });
      const client = ModuleClient.fromConnectionString(good, transport);
      await client.setOptions(options());
      await expectSdkError(client.open(), 'UnauthorizedError');
    });
  },
);
