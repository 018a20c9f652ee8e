import { afterAll, describe, expect, it } from 'vitest';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { eventHubsStream, openStream, useStack, type Harness, type SseEvent } from './harness.ts';

describe('BFF: live telemetry from the Event Hubs-compatible endpoint', () => {
  const stack: Harness = useStack({
    emulator: {
      routes: [
        'DeviceMessages',
        'TwinChangeEvents',
        'DeviceLifecycleEvents',
        'DeviceConnectionStateEvents',
      ],
      consumerGroups: ['twinscope'],
    },
    env: () => ({
      TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString,
      TWINSCOPE_TELEMETRY_PER_TAB: '5',
    }),
  });
  const clients: { close(): Promise<unknown> }[] = [];
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
  });

  async function device(deviceId: string, moduleId?: string) {
    if (moduleId === undefined) await stack.registry.create({ deviceId });
    else await stack.registry.addModule({ deviceId, moduleId });
    const Ctor = moduleId === undefined ? deviceSdk.Client : deviceSdk.ModuleClient;
    const client = Ctor.fromConnectionString(
      stack.emulator.identityConnectionString(deviceId, moduleId),
      mqttTransport.Mqtt,
    );
    await client.setOptions({ ca: stack.emulator.tls.caCert });
    await client.open();
    clients.push(client);
    return client;
  }

  /** A stream on the Event Hubs feed, showing the telemetry of these targets. */
  async function telemetryStream(targets: object[]) {
    const { stream, hello } = await eventHubsStream(stack.bff.url);
    const watched = await stack.api(`/api/events/${hello.data.streamId}/telemetry`, {
      method: 'POST',
      json: { targets },
    });
    expect(watched.status).toBe(204);
    return stream;
  }

  it('when a watched device sends JSON, text, binary and a huge body, then the tab gets each decoded with its properties; unwatched devices send nothing', async () => {
    const sender = await device('tele-dev-01');
    const other = await device('tele-dev-02');
    const stream = await telemetryStream([{ deviceId: 'tele-dev-01' }]);
    try {
      const json = new deviceSdk.Message(JSON.stringify({ celsius: 21.5 }));
      json.messageId = 'm-json';
      json.contentType = 'application/json';
      json.contentEncoding = 'utf-8';
      json.properties.add('alert', 'high');
      await other.sendEvent(new deviceSdk.Message('not for this tab'));
      await sender.sendEvent(json);
      await sender.sendEvent(new deviceSdk.Message('plain words'));
      await sender.sendEvent(new deviceSdk.Message(Buffer.from([0xde, 0xad, 0xbe, 0xef])));
      await sender.sendEvent(new deviceSdk.Message('x'.repeat(40 * 1024)));
      const telemetry = () => stream.events.filter((e) => e.event === 'telemetry');
      await expect.poll(() => telemetry().length, { timeout: 8000 }).toBe(4);
      const seen: SseEvent[] = telemetry();
      expect(seen.map((e) => e.data.deviceId)).toEqual(Array(4).fill('tele-dev-01'));
      expect(seen[0]!.data).toMatchObject({
        body: { kind: 'json', value: { celsius: 21.5 } },
        properties: { alert: 'high' },
        system: { messageId: 'm-json', contentType: 'application/json' },
        enqueuedTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(seen[1]!.data.body).toEqual({ kind: 'text', text: 'plain words' });
      expect(seen[2]!.data.body).toEqual({ kind: 'binary', hex: 'deadbeef' });
      expect(seen[3]!.data).toMatchObject({ bytes: 40 * 1024, truncated: true });
      expect(seen[3]!.data.body.text).toHaveLength(16 * 1024);
    } finally {
      stream.close();
    }
  });

  it('when a module sends output events, then a tab watching the module gets them with its id', async () => {
    await device('tele-dev-03');
    const module = await device('tele-dev-03', 'filter');
    const stream = await telemetryStream([{ deviceId: 'tele-dev-03', moduleId: 'filter' }]);
    try {
      await (module as InstanceType<typeof deviceSdk.ModuleClient>).sendOutputEvent(
        'alerts',
        new deviceSdk.Message('{"level": 3}'),
      );
      const event = await stream.next((e) => e.event === 'telemetry');
      expect(event.data).toMatchObject({
        deviceId: 'tele-dev-03',
        moduleId: 'filter',
        body: { kind: 'json', value: { level: 3 } },
        system: { 'iothub-outputname': 'alerts' },
      });
    } finally {
      stream.close();
    }
  });

  it('when a device sends faster than the tab limit, then the tab gets its share and is told exactly how many it did not get', async () => {
    const sender = await device('tele-dev-04');
    const stream = await telemetryStream([{ deviceId: 'tele-dev-04' }]);
    try {
      const total = 60;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          sender.sendEvent(new deviceSdk.Message(JSON.stringify({ i }))),
        ),
      );
      const delivered = () => stream.events.filter((e) => e.event === 'telemetry').length;
      const notices = () => stream.events.filter((e) => e.event === 'telemetry-dropped');
      const dropped = () => notices().reduce((sum, e) => sum + (e.data.dropped as number), 0);
      // Every message is either shown or counted: none vanishes, none is counted twice.
      await expect.poll(() => delivered() + dropped(), { timeout: 10_000 }).toBe(total);
      expect(dropped()).toBeGreaterThan(0);
      // The burst allowance (twice the per-second limit) went through; the rest was counted.
      expect(delivered()).toBeLessThanOrEqual(10 + 5 * 2);
      expect(notices().every((e) => e.data.limitPerSecond === 5)).toBe(true);
    } finally {
      stream.close();
    }
  }, 20_000);

  it('when a watched device connects and disconnects, then the tab is told each as IoT Hub reports it', async () => {
    await stack.registry.create({ deviceId: 'tele-conn-01' });
    const stream = await telemetryStream([]);
    try {
      const hello = stream.events.find((e) => e.event === 'hello')!;
      await stack.api(`/api/events/${hello.data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [{ deviceId: 'tele-conn-01' }] },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const client = deviceSdk.Client.fromConnectionString(
        stack.emulator.identityConnectionString('tele-conn-01'),
        mqttTransport.Mqtt,
      );
      await client.setOptions({ ca: stack.emulator.tls.caCert });
      await client.open();
      await client.close();
      const states = () =>
        stream.events
          .filter((e) => e.event === 'connection' && e.data.deviceId === 'tele-conn-01')
          .map((e) => e.data.state);
      await expect.poll(states, { timeout: 8000 }).toEqual(['Connected', 'Disconnected']);
    } finally {
      stream.close();
    }
  });

  it('when a tab follows the device list filter, then it gets the telemetry of every matching device and their modules, and no other', async () => {
    const a1 = await device('flt-a-1');
    const a1Module = await device('flt-a-1', 'edge');
    const a2 = await device('flt-a-2');
    const b1 = await device('flt-b-1');
    for (const [deviceId, site] of <[string, string][]>[
      ['flt-a-1', 'fltx'],
      ['flt-a-2', 'fltx'],
      ['flt-b-1', 'elsewhere'],
    ])
      await stack.registry.updateTwin(deviceId, { tags: { site } }, '*');
    const stream = await telemetryStream([]);
    try {
      const hello = stream.events.find((e) => e.event === 'hello')!;
      const watched = await stack.api(`/api/events/${hello.data.streamId}/telemetry`, {
        method: 'POST',
        json: { targets: [], filter: { prefix: 'flt-', tags: ['site=fltx'] } },
      });
      expect(watched.status).toBe(200);
      expect(watched.body).toEqual({ devices: 2, capped: false });
      await b1.sendEvent(new deviceSdk.Message('from b1'));
      await a1.sendEvent(new deviceSdk.Message('from a1'));
      await (a1Module as InstanceType<typeof deviceSdk.ModuleClient>).sendOutputEvent(
        'out',
        new deviceSdk.Message('from a1 edge'),
      );
      await a2.sendEvent(new deviceSdk.Message('from a2'));
      const texts = () =>
        stream.events
          .filter((e) => e.event === 'telemetry')
          .map((e) => e.data.body.text as string)
          .sort();
      await expect.poll(texts, { timeout: 8000 }).toEqual(['from a1', 'from a1 edge', 'from a2']);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(texts()).not.toContain('from b1');
      const bad = await stack.api(`/api/events/${hello.data.streamId}/telemetry`, {
        method: 'POST',
        json: { targets: [], filter: { where: "tags.site = 'x') OR (1=1" } },
      });
      expect(bad.status).toBe(400);
    } finally {
      stream.close();
    }
  });

  it('when a telemetry watch names bad ids or another session’s stream, then it is refused', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      const hello = await stream.next((e) => e.event === 'hello');
      const bad = await stack.api(`/api/events/${hello.data.streamId}/telemetry`, {
        method: 'POST',
        json: { targets: [{ deviceId: 'has/slash' }] },
      });
      expect(bad.status).toBe(400);
      const gone = await stack.api('/api/events/no-such-stream/telemetry', {
        method: 'POST',
        json: { targets: [] },
      });
      expect(gone.status).toBe(404);
    } finally {
      stream.close();
    }
  });
});
