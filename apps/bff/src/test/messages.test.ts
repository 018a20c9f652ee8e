import { afterAll, describe, expect, it } from 'vitest';
import { runDevice, type RunningModule } from '@twinscope/module-simulator';
import { openStream, useStack } from './harness.ts';

describe('BFF: cloud-to-device messages', () => {
  const stack = useStack({ emulator: { feedbackBatchMs: 100 } });
  const running: RunningModule[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.map((app) => app.stop()));
  });

  async function simulatedDevice(deviceId: string, transport: 'amqp' | 'mqtt' = 'amqp') {
    await stack.registry.create({ deviceId });
    running.push(
      await runDevice(stack.emulator.identityConnectionString(deviceId), {
        ca: stack.emulator.tls.caCert,
        transport,
        ports: {
          mqtt: stack.emulator.mqttPort,
          amqp: stack.emulator.amqpsPort,
          https: stack.emulator.httpsPort,
        },
        log: () => undefined,
      }),
    );
  }

  it('when an Operator sends a JSON message and one asking to be rejected, then the device gets them and each feedback reaches the tab and the list', async () => {
    await simulatedDevice('c2d-dev-01');
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      const { data } = await stream.next((e) => e.event === 'hello');
      await stack.api(`/api/events/${data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [{ deviceId: 'c2d-dev-01' }] },
      });
      const sent = await stack.api('/api/devices/c2d-dev-01/messages', {
        method: 'POST',
        json: {
          body: '{"open":"valve-3"}',
          format: 'json',
          properties: { priority: 'high' },
          correlationId: 'job-7',
          expiresInSeconds: 600,
        },
      });
      expect(sent.status).toBe(201);
      const { messageId } = sent.body as { messageId: string };
      expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
      const delivered = await stream.next(
        (e) => e.event === 'message-feedback' && e.data.messageId === messageId,
      );
      expect(delivered.data).toMatchObject({ deviceId: 'c2d-dev-01', statusCode: 'Success' });

      const rejected = await stack.api('/api/devices/c2d-dev-01/messages', {
        method: 'POST',
        json: { body: 'please reject me', properties: { reject: 'true' }, messageId: 'rej-1' },
      });
      expect(rejected.body.messageId).toBe('rej-1');
      const refusal = await stream.next(
        (e) => e.event === 'message-feedback' && e.data.messageId === 'rej-1',
      );
      expect(refusal.data.statusCode).toBe('Rejected');
    } finally {
      stream.close();
    }
    const list = await stack.api('/api/devices/c2d-dev-01/messages');
    expect(list.body).toMatchObject({ queued: 0, feedback: true });
    expect(list.body.messages.map((m: any) => [m.messageId, m.feedback?.statusCode])).toEqual([
      ['rej-1', 'Rejected'],
      [expect.any(String), 'Success'],
    ]);
    expect(list.body.messages[1].actor.name).toBeTruthy();
  });

  it('when messages wait for an offline device, then the queue depth shows; past 50 the send is refused; an Admin purge empties it with Purged feedback', async () => {
    await stack.registry.create({ deviceId: 'c2d-offline' });
    for (let i = 0; i < 50; i++) {
      const sent = await stack.api('/api/devices/c2d-offline/messages', {
        method: 'POST',
        json: { body: `#${i}`, messageId: `q-${i}` },
      });
      expect(sent.status).toBe(201);
    }
    expect((await stack.api('/api/devices/c2d-offline/messages')).body.queued).toBe(50);
    const full = await stack.api('/api/devices/c2d-offline/messages', {
      method: 'POST',
      json: { body: 'one too many', messageId: 'q-50' },
    });
    expect(full.status).toBe(412);
    expect(full.body.message).toMatch(/50 messages waiting/);
    const purged = await stack.api('/api/devices/c2d-offline/messages', { method: 'DELETE' });
    expect(purged.body).toEqual({ purged: 50 });
    expect((await stack.api('/api/devices/c2d-offline/messages')).body.queued).toBe(0);
    await expect
      .poll(
        async () =>
          (await stack.api('/api/devices/c2d-offline/messages')).body.messages.find(
            (m: any) => m.messageId === 'q-49',
          )?.feedback?.statusCode,
      )
      .toBe('Purged');
    const refused = (await stack.api('/api/devices/c2d-offline/messages')).body.messages.find(
      (m: any) => m.messageId === 'q-50',
    );
    expect(refused).toMatchObject({ result: 'refused', error: { code: 'conflict' } });
  });

  it('when a message breaks IoT Hub rules or the device is unknown, then nothing is sent and the reason is given', async () => {
    for (const json of [
      { body: 'x'.repeat(65 * 1024) },
      { body: 'x', properties: { 'iothub-ack': 'full' } },
      { body: 'x', properties: { 'with space': '1' } },
      { body: '{not json', format: 'json' },
      { body: 'x', expiresInSeconds: 10 },
      { body: 'x', expiresInSeconds: 3 * 24 * 3600 },
      { body: 'x', ack: 'sometimes' },
      { body: 'x', messageId: '' },
    ]) {
      const refused = await stack.api('/api/devices/c2d-offline/messages', {
        method: 'POST',
        json,
      });
      expect(refused.status, JSON.stringify(json).slice(0, 60)).toBe(400);
      expect(refused.body.message).toBeTruthy();
    }
    const ghost = await stack.api('/api/devices/ghost-device/messages', {
      method: 'POST',
      json: { body: 'hello' },
    });
    expect(ghost.status).toBe(404);
    expect((await stack.api('/api/devices/c2d-offline/messages')).body.queued).toBe(0);
  });
});
