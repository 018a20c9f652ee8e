import { afterAll, describe, expect, it } from 'vitest';
import { runDevice, type RunningModule } from '@twinscope/module-simulator';
import type { TimelineEntry } from '@twinscope/contract';
import { openStream, useStack, type Harness } from './harness.ts';

describe("BFF: a device's timeline", () => {
  const stack: Harness = useStack({
    emulator: {
      routes: [
        'DeviceMessages',
        'TwinChangeEvents',
        'DeviceLifecycleEvents',
        'DeviceConnectionStateEvents',
      ],
      consumerGroups: ['twinscope'],
      feedbackBatchMs: 100,
    },
    env: () => ({ TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString }),
  });
  const running: RunningModule[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.map((app) => app.stop()));
  });

  const start = (deviceId: string) =>
    runDevice(stack.emulator.identityConnectionString(deviceId), {
      ca: stack.emulator.tls.caCert,
      transport: 'mqtt',
      ports: {
        mqtt: stack.emulator.mqttPort,
        amqp: stack.emulator.amqpsPort,
        https: stack.emulator.httpsPort,
      },
      log: () => undefined,
    });

  const timeline = async (deviceId: string, query = '') =>
    (await stack.api(`/api/devices/${deviceId}/timeline${query}`)) as {
      status: number;
      body: { entries: TimelineEntry[]; complete: boolean; notes: string[]; since: string };
    };

  it('when a device is created, connects, reports, sends telemetry, is changed, called and messaged from Twinscope, then its timeline holds each once, newest first, with who did it', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    expect(
      (await stack.api('/api/devices', { method: 'POST', json: { deviceId: 'tl-dev-01' } })).status,
    ).toBe(201);
    const app = await start('tl-dev-01');
    running.push(app);
    const twin = (await stack.api('/api/devices/tl-dev-01')).body.twin;
    // Twinscope's write: the device echoes the interval (a reported change) and starts sending.
    const patched = await stack.api('/api/devices/tl-dev-01/twin', {
      method: 'PATCH',
      json: { etag: twin.etag, desired: { telemetryInterval: 0.5 } },
    });
    expect(patched.status).toBe(200);
    const written = patched.body.twin.version as number;
    const ping = await stack.api('/api/devices/tl-dev-01/methods', {
      method: 'POST',
      json: { methodName: 'ping', payload: { n: 1 } },
    });
    expect(ping.body.status).toBe(200);
    const sent = await stack.api('/api/devices/tl-dev-01/messages', {
      method: 'POST',
      json: { body: 'hello device', messageId: 'tl-msg-1', ack: 'full' },
    });
    expect(sent.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await app.stop();

    const kindsOf = (entries: TimelineEntry[]) => new Set(entries.map((e) => e.kind));
    let entries: TimelineEntry[] = [];
    await expect
      .poll(
        async () => {
          entries = (await timeline('tl-dev-01', `?since=${encodeURIComponent(since)}`)).body
            .entries;
          return (
            entries
              .filter((e) => e.kind === 'connection')
              .map((e) => e.title)
              .join(',') === 'Disconnected,Connected' &&
            entries.some((e) => e.title.includes('Feedback'))
          );
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    expect([...kindsOf(entries)].sort()).toEqual(
      ['connection', 'identity', 'lifecycle', 'message', 'method', 'telemetry', 'twin'].sort(),
    );
    // Newest first.
    const times = entries.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const by = (title: RegExp) => entries.filter((e) => title.test(e.title));
    expect(by(/^Created the device identity$/)[0]).toMatchObject({
      kind: 'identity',
      by: 'Local operator',
      result: 'succeeded',
    });
    expect(by(/^Device created$/)).toHaveLength(1);
    // The console's write shows once, with who made it; the hub's own event for it is not repeated.
    const ours = entries.filter(
      (e) => e.kind === 'twin' && e.title.includes(`(version ${written})`),
    );
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      title: `Changed desired properties (version ${written})`,
      by: 'Local operator',
      detail: { desired: { telemetryInterval: 0.5 } },
    });
    const reported = entries.find((e) => e.kind === 'twin' && e.by === 'the device');
    expect(reported?.title).toMatch(/^Changed reported properties \(version \d+\)$/);
    expect(reported?.detail).toMatchObject({
      properties: { reported: { telemetryInterval: 0.5 } },
    });
    expect(by(/^Invoked ping: status 200$/)[0]).toMatchObject({
      kind: 'method',
      by: 'Local operator',
    });
    expect(by(/^Sent message tl-msg-1$/)).toHaveLength(1);
    expect(by(/^Feedback on message tl-msg-1: Success$/)).toHaveLength(1);
    const telemetry = entries.find((e) => e.kind === 'telemetry')!;
    expect(telemetry.telemetry).toMatchObject({ deviceId: 'tl-dev-01', body: { kind: 'json' } });
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);

    // Filtered by kind, only that kind comes back.
    const onlyTelemetry = await timeline(
      'tl-dev-01',
      `?since=${encodeURIComponent(since)}&kinds=telemetry,connection`,
    );
    expect(kindsOf(onlyTelemetry.body.entries)).toEqual(new Set(['telemetry', 'connection']));
    expect(onlyTelemetry.body.complete).toBe(true);
    // From a later time, the earlier events are not there.
    const later = await timeline(
      'tl-dev-01',
      `?since=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(later.body.entries.some((e) => e.kind === 'lifecycle')).toBe(false);
  }, 40_000);

  it("when a twin changes, whoever changed it, then the BFF's consumer stores the event once in the twin's history with its version, and takes the twin's first snapshot", async () => {
    await stack.registry.create({ deviceId: 'hist-dev-01' });
    for (const tags of [{ a: 1 }, { a: 2 }, { a: 3 }]) {
      const { responseBody: twin } = await stack.registry.getTwin('hist-dev-01');
      await stack.registry.updateTwin('hist-dev-01', { tags }, twin.etag);
    }
    const now = (await stack.registry.getTwin('hist-dev-01')).responseBody as unknown as {
      version: number;
    };
    const stored = async () =>
      (
        await stack.bff.db.query<{ version: number; patch: { tags?: unknown } }>(
          "SELECT version, patch FROM twin_changes WHERE device_id = $1 AND module_id = '' ORDER BY version",
          ['hist-dev-01'],
        )
      ).rows;
    await expect.poll(async () => (await stored()).length, { timeout: 10_000 }).toBe(3);
    const rows = await stored();
    expect(rows.map((r) => r.version)).toEqual([now.version - 2, now.version - 1, now.version]);
    expect(rows[2]!.patch.tags).toEqual({ a: 3 });
    await expect
      .poll(
        async () =>
          (
            await stack.bff.db.query<{ reason: string }>(
              'SELECT reason FROM twin_snapshots WHERE device_id = $1',
              ['hist-dev-01'],
            )
          ).rows.map((r) => r.reason),
        { timeout: 10_000 },
      )
      .toEqual(['first-seen']);

    // A change from the console: its version says who made it, and rebuilds from the snapshot.
    const { twin } = (await stack.api('/api/devices/hist-dev-01')).body;
    const patched = await stack.api('/api/devices/hist-dev-01/twin', {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { b: 'console' } },
    });
    const written = patched.body.twin.version as number;
    await expect
      .poll(
        async () =>
          (await stack.api('/api/devices/hist-dev-01/versions')).body.versions[0]?.version,
        {
          timeout: 10_000,
        },
      )
      .toBe(written);
    const { versions, gaps } = (await stack.api('/api/devices/hist-dev-01/versions')).body;
    expect(versions.map((v: { version: number; by: string }) => [v.version, v.by])).toEqual([
      [written, 'Local operator'],
      [now.version, 'another back end'],
      [now.version - 1, 'another back end'],
      [now.version - 2, 'another back end'],
    ]);
    expect(gaps).toEqual([]);
    const atWritten = await stack.api(`/api/devices/hist-dev-01/versions/${written}`);
    expect(atWritten.body).toMatchObject({ version: written, tags: { a: 3, b: 'console' } });
    const atSnapshot = await stack.api(`/api/devices/hist-dev-01/versions/${now.version}`);
    expect(atSnapshot.body.tags).toEqual({ a: 3 });
    // Before the first snapshot there is nothing to rebuild from: said, not guessed. (The
    // first snapshot is of the twin as read when its first change was stored, so any of
    // the three versions; the one before them was never seen.)
    const before = await stack.api(`/api/devices/hist-dev-01/versions/${now.version - 3}`);
    expect(before.status).toBe(404);
    expect(before.body.message).toMatch(/older than the first version Twinscope saw/);
    expect((await stack.api('/api/devices/hist-dev-01/versions/zero')).status).toBe(400);
  });

  it('when a module is called from Twinscope, then a tab watching it hears the activity as it is recorded and as it ends (offline: failed)', async () => {
    const stream = await openStream(`${stack.bff.url}/api/events`);
    try {
      const hello = await stream.next((e) => e.event === 'hello');
      await stack.api(`/api/events/${hello.data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [{ deviceId: 'lyon-north-meter-08', moduleId: 'telemetry' }] },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await stack.api('/api/devices/lyon-north-meter-08/modules/telemetry/methods', {
        method: 'POST',
        json: { methodName: 'ping' },
      });
      const activity = () =>
        stream.events
          .filter((e) => e.event === 'activity')
          .map((e) => [e.data.entry.action, e.data.entry.result]);
      await expect.poll(activity, { timeout: 8000 }).toEqual([
        ['method.invoke', 'unknown'],
        ['method.invoke', 'failed'],
      ]);
    } finally {
      stream.close();
    }
  });

  it('when a timeline is asked with a bad start, kind or id, then it says what is wrong', async () => {
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
    const cases: [string, RegExp][] = [
      [`?since=${eightDaysAgo}`, /at most 7 days/],
      ['?since=yesterday', /since is a date and time/],
      [`?since=${new Date(Date.now() + 3600_000).toISOString()}`, /in the future/],
      ['?kinds=telemetry,gossip', /kinds/],
      ['?extra=1', /extra/],
    ];
    for (const [query, message] of cases) {
      const response = await stack.api(`/api/devices/tl-dev-01/timeline${query}`);
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(response.body), query).toMatch(message);
      expect(response.text).not.toMatch(/ at .*\.ts:/);
    }
    expect((await stack.api('/api/devices/has%20space/timeline')).status).toBe(400);
    // A device that never did anything has an empty timeline, not an error.
    const quiet = await timeline('no-such-device-yet');
    expect(quiet.status).toBe(200);
    expect(quiet.body.entries).toEqual([]);
  });
});
