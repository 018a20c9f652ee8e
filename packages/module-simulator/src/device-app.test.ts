import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import type iothub from 'azure-iothub';
import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor, serviceClientFor } from '@twinscope/hub-connection';
import { runDevice, runModule, type RunningModule, type Transport } from './module-app.ts';

interface FeedbackRecord {
  originalMessageId: string;
  statusCode: string;
  deviceId: string;
}

describe('the app as a device and its direct methods, telemetry and cloud-to-device messages', () => {
  let emulator: RunningEmulator;
  let registry: ReturnType<typeof registryFor>;
  let service: iothub.Client;
  const running: RunningModule[] = [];
  const lines: string[] = [];
  const feedback: FeedbackRecord[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      feedbackBatchMs: 100,
    });
    registry = registryFor(emulator.serviceConnectionString, { ca: emulator.tls.caCert });
    service = serviceClientFor(emulator.serviceConnectionString, {
      ca: emulator.tls.caCert,
      amqpPort: emulator.amqpsPort,
    });
    await service.open();
    const { result: receiver } = await service.getFeedbackReceiver();
    receiver.on('message', (message: { data: Buffer }) => {
      feedback.push(...(JSON.parse(message.data.toString()) as FeedbackRecord[]));
      void receiver.complete(message as never);
    });
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((app) => app.stop()));
    await service.close();
    await emulator.close();
  });

  const ports = () => ({
    mqtt: emulator.mqttPort,
    amqp: emulator.amqpsPort,
    https: emulator.httpsPort,
  });

  async function startDevice(deviceId: string, transport: Transport, telemetry?: number) {
    await registry.create({ deviceId });
    const app = await runDevice(emulator.identityConnectionString(deviceId), {
      ca: emulator.tls.caCert,
      transport,
      ports: ports(),
      ...(telemetry ? { telemetryIntervalSeconds: telemetry } : {}),
      log: (line) => lines.push(line),
    });
    running.push(app);
    return app;
  }

  /** Telemetry the device sent, read from the built-in endpoint's store. */
  function telemetryOf(deviceId: string): { body: unknown; contentType?: string }[] {
    const store = emulator.events.store;
    const found: { body: unknown; contentType?: string }[] = [];
    for (let p = 0; p < store.partitionCount; p++) {
      const info = store.info(p);
      if (info.isEmpty) continue;
      for (let n = info.beginSequenceNumber; n <= info.lastSequenceNumber; n++) {
        const event = store.at(p, n);
        if (!event || event.annotations['iothub-connection-device-id'] !== deviceId) continue;
        if (event.annotations['iothub-message-source'] !== 'Telemetry') continue;
        found.push({
          body: JSON.parse(event.body.toString('utf8')),
          ...(event.properties['content_type']
            ? { contentType: event.properties['content_type'] }
            : {}),
        });
      }
    }
    return found;
  }

  const invoke = async (deviceId: string, methodName: string, payload: unknown = null) =>
    (
      await service.invokeDeviceMethod(deviceId, {
        methodName,
        payload,
        responseTimeoutInSeconds: 10,
      })
    ).result as { status: number; payload: any };

  it('when a device runs over MQTT, then it answers ping and fail, reconnects after reboot, and sends telemetry at the desired interval', async () => {
    await startDevice('sim-mqtt-01', 'mqtt');
    expect(await invoke('sim-mqtt-01', 'ping', { hello: 1 })).toMatchObject({
      status: 200,
      payload: { pong: true, echo: { hello: 1 } },
    });
    expect(await invoke('sim-mqtt-01', 'fail', { status: 503 })).toMatchObject({
      status: 503,
      payload: { error: expect.stringMatching(/on purpose/) },
    });
    expect((await invoke('sim-mqtt-01', 'fail')).status).toBe(500);

    expect(await invoke('sim-mqtt-01', 'reboot', { delaySeconds: 1 })).toEqual({
      status: 200,
      payload: { rebootingInSeconds: 1 },
    });
    await expect
      .poll(async () => (await registry.get('sim-mqtt-01')).responseBody.connectionState)
      .toBe('Disconnected');
    await expect
      .poll(async () => (await registry.get('sim-mqtt-01')).responseBody.connectionState, {
        timeout: 8000,
      })
      .toBe('Connected');
    await expect
      .poll(async () => (await invoke('sim-mqtt-01', 'ping').catch(() => ({ status: 0 }))).status, {
        timeout: 8000,
      })
      .toBe(200);

    await registry.updateTwin(
      'sim-mqtt-01',
      { properties: { desired: { telemetryInterval: 0.2 } } },
      '*',
    );
    await expect
      .poll(() => telemetryOf('sim-mqtt-01').length, { timeout: 8000 })
      .toBeGreaterThan(2);
    const [first] = telemetryOf('sim-mqtt-01');
    expect(first).toMatchObject({
      contentType: 'application/json',
      body: { temperature: expect.any(Number), humidity: expect.any(Number), sequence: 1 },
    });
    // Reported back, as the how-to does with every desired change.
    await expect
      .poll(
        async () =>
          (await registry.getTwin('sim-mqtt-01')).responseBody.properties.reported[
            'telemetryInterval'
          ],
      )
      .toBe(0.2);
    await registry.updateTwin(
      'sim-mqtt-01',
      { properties: { desired: { telemetryInterval: 0 } } },
      '*',
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const stopped = telemetryOf('sim-mqtt-01').length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(telemetryOf('sim-mqtt-01').length).toBe(stopped);
  }, 30_000);

  it.each([
    ['amqp', 'rejected'],
    ['http', 'rejected'],
    ['mqtt', 'completed'],
  ] as const)(
    'when a device on %s gets a message asking to be rejected, then it is %s; a plain one is completed',
    async (transport, outcome) => {
      const deviceId = `sim-c2d-${transport}`;
      await startDevice(deviceId, transport);
      const send = async (messageId: string, reject: boolean) => {
        const message = new deviceSdk.Message(JSON.stringify({ say: messageId }));
        message.messageId = messageId;
        message.ack = 'full';
        if (reject) message.properties.add('reject', 'true');
        await service.send(deviceId, message);
      };
      await send(`${transport}-plain`, false);
      await send(`${transport}-reject`, true);
      await expect
        .poll(
          () => feedback.find((f) => f.originalMessageId === `${transport}-plain`)?.statusCode,
          {
            timeout: 10_000,
          },
        )
        .toBe('Success');
      await expect
        .poll(
          () => feedback.find((f) => f.originalMessageId === `${transport}-reject`)?.statusCode,
          {
            timeout: 10_000,
          },
        )
        .toBe(outcome === 'rejected' ? 'Rejected' : 'Success');
      expect(
        lines.some((l) => l.includes(`[${deviceId}] message ${transport}-reject ${outcome}`)),
      ).toBe(true);
    },
    20_000,
  );

  it('when a module is asked for HTTPS, then it refuses clearly (modules have no HTTPS transport)', async () => {
    await expect(
      runModule('HostName=localhost;DeviceId=d;ModuleId=m;SharedAccessKey=AAAA', {
        transport: 'http',
        log: () => undefined,
      }),
    ).rejects.toThrow(/modules cannot use HTTPS/);
  });
});
