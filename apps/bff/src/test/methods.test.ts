import { afterAll, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { runDevice, runModule, type RunningModule } from '@twinscope/module-simulator';
import { useStack } from './harness.ts';

describe('BFF: direct methods', () => {
  const stack = useStack();
  const running: RunningModule[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.map((app) => app.stop()));
  });

  const ports = () => ({
    mqtt: stack.emulator.mqttPort,
    amqp: stack.emulator.amqpsPort,
    https: stack.emulator.httpsPort,
  });

  async function simulatedDevice(deviceId: string) {
    await stack.registry.create({ deviceId });
    running.push(
      await runDevice(stack.emulator.identityConnectionString(deviceId), {
        ca: stack.emulator.tls.caCert,
        transport: 'mqtt',
        ports: ports(),
        log: () => undefined,
      }),
    );
  }

  it('when an Operator invokes a method the device answers and one it fails, then each answer shows with its status, and the recent calls list both', async () => {
    await simulatedDevice('method-dev-01');
    const ping = await stack.api('/api/devices/method-dev-01/methods', {
      method: 'POST',
      json: { methodName: 'ping', payload: { hello: 'there' } },
    });
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({
      status: 200,
      payload: { pong: true, echo: { hello: 'there' } },
      durationMs: expect.any(Number),
    });
    const failed = await stack.api('/api/devices/method-dev-01/methods', {
      method: 'POST',
      json: { methodName: 'fail', payload: { status: 503 }, responseTimeoutInSeconds: 10 },
    });
    // The device's own failure is its answer, not the BFF's error.
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 503, payload: { error: expect.any(String) } });
    const recent = await stack.api('/api/devices/method-dev-01/methods');
    expect(recent.body.invocations).toEqual([
      expect.objectContaining({
        methodName: 'fail',
        status: 503,
        result: 'succeeded',
        payload: { status: 503 },
        actor: expect.objectContaining({ name: expect.any(String) }),
      }),
      expect.objectContaining({ methodName: 'ping', status: 200, payload: { hello: 'there' } }),
    ]);
  });

  it('when the target is a module, then the call reaches the module app', async () => {
    running.push(
      await runModule(stack.emulator.identityConnectionString('lyon-north-meter-08', 'telemetry'), {
        ca: stack.emulator.tls.caCert,
        transport: 'amqp',
        ports: ports(),
        log: () => undefined,
      }),
    );
    const ping = await stack.api('/api/devices/lyon-north-meter-08/modules/telemetry/methods', {
      method: 'POST',
      json: { methodName: 'ping' },
    });
    expect(ping.body).toMatchObject({ status: 200, payload: { pong: true } });
    expect(
      (await stack.api('/api/devices/lyon-north-meter-08/modules/telemetry/methods')).body
        .invocations[0],
    ).toMatchObject({ methodName: 'ping', status: 200 });
  });

  it('when the device is offline, or never answers, then the operator is told which, and the call is recorded', async () => {
    const offline = await stack.api('/api/devices/berlin-b1-meter-03/methods', {
      method: 'POST',
      json: { methodName: 'ping' },
    });
    expect(offline.status).toBe(404);
    expect(offline.body.code).toBe('device_offline');
    expect(offline.body.message).toMatch(/not connected/);

    await stack.registry.create({ deviceId: 'method-silent' });
    const silent = deviceSdk.Client.fromConnectionString(
      stack.emulator.identityConnectionString('method-silent'),
      mqttTransport.Mqtt,
    );
    await silent.setOptions({ ca: stack.emulator.tls.caCert });
    await silent.open();
    try {
      silent.onDeviceMethod('hang', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const hung = await stack.api('/api/devices/method-silent/methods', {
        method: 'POST',
        json: { methodName: 'hang', responseTimeoutInSeconds: 5 },
      });
      expect(hung.status).toBe(504);
      expect(hung.body.code).toBe('device_timeout');
    } finally {
      await silent.close();
    }
    const recent = (await stack.api('/api/devices/method-silent/methods')).body.invocations;
    expect(recent[0]).toMatchObject({
      methodName: 'hang',
      result: 'unknown',
      error: { code: 'device_timeout' },
    });
  }, 20_000);

  it('when a call breaks IoT Hub rules, then it is refused before it reaches the hub', async () => {
    for (const json of [
      { methodName: '$edge' },
      { methodName: 'has space' },
      { methodName: '' },
      { methodName: 'x'.repeat(129) },
      { methodName: 'ping', responseTimeoutInSeconds: 4 },
      { methodName: 'ping', responseTimeoutInSeconds: 301 },
      { methodName: 'ping', connectTimeoutInSeconds: -1 },
      { methodName: 'ping', connectTimeoutInSeconds: 301 },
      { methodName: 'ping', payload: { blob: 'x'.repeat(130 * 1024) } },
      { methodName: 'ping', extra: true },
    ]) {
      const refused = await stack.api('/api/devices/method-dev-01/methods', {
        method: 'POST',
        json,
      });
      expect(refused.status, JSON.stringify(json).slice(0, 60)).toBe(400);
      expect(refused.body.message).toBeTruthy();
    }
    // Only the two earlier calls were recorded.
    expect((await stack.api('/api/devices/method-dev-01/methods')).body.invocations).toHaveLength(
      2,
    );
  });
});
