import { describe, expect, it } from 'vitest';
import type { OverviewBar, OverviewResponse } from '@twinscope/contract';
import { useStack, type Harness } from './harness.ts';
import { useTwoReplicas } from './two-replicas.ts';
import { hasPostgres } from './postgres-server.ts';

if (!hasPostgres && process.env['CI'])
  throw new Error('CI needs PostgreSQL for the overview on two replicas (npm test installs it).');

/** Until the overview holds a look taken after `after` (ISO), then the overview. */
async function lookAfter(
  read: () => Promise<OverviewResponse>,
  after = '',
): Promise<OverviewResponse> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const overview = await read();
    if (overview.snapshot && overview.snapshot.takenAt > after) return overview;
    if (Date.now() > deadline) throw new Error('no overview look was stored within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the device list (or the module list) says it holds for a bar's condition. */
async function listed(stack: Harness, bar: OverviewBar, list = 'devices'): Promise<number> {
  const answer = await stack.api(`/api/${list}?pageSize=1&where=${encodeURIComponent(bar.where!)}`);
  expect(answer.status).toBe(200);
  return answer.body.totalCount;
}

describe('the overview', () => {
  const stack = useStack();
  const read = async () => {
    const answer = await stack.api('/api/overview');
    expect(answer.status).toBe(200);
    return answer.body as OverviewResponse;
  };

  it('when the console starts, then one look at the hub counts the fleet by connection, status and site, and every bar opens the list of exactly what it counts', async () => {
    const { snapshot } = await lookAfter(read);
    const fleet = (await stack.registry.createQuery('SELECT * FROM devices', 1000).next()).result
      .length;
    expect(snapshot!.devices).toBe(fleet);
    expect(snapshot!.connection.map((b) => b.label)).toEqual(['Connected', 'Disconnected']);
    expect(snapshot!.connection.reduce((sum, b) => sum + b.count, 0)).toBe(fleet);
    expect(snapshot!.status.find((b) => b.label === 'Enabled')!.count).toBe(fleet);
    // The demo fleet's sites, most devices first.
    expect(snapshot!.tag.key).toBe('site');
    expect(snapshot!.tag.bars.map((b) => [b.label, b.count])).toEqual([
      ['berlin', 6],
      ['lyon', 4],
      ['toronto', 2],
    ]);
    expect(snapshot!.problems).toEqual([]);
    const bars = [...snapshot!.connection, ...snapshot!.status, ...snapshot!.tag.bars];
    for (const bar of bars) expect(await listed(stack, bar), bar.label).toBe(bar.count);
    // The look's cost is recorded, and the schedule's next look is after it.
    expect(snapshot!.queries).toBeGreaterThanOrEqual(4);
    const overview = await read();
    expect(Date.parse(overview.nextAt!)).toBeGreaterThan(Date.parse(snapshot!.takenAt));
    expect(overview.hourly.at(-1)).toMatchObject({ devices: fleet });
    expect(overview.daily.at(-1)).toMatchObject({ devices: fleet });
  });

  it('when an Operator chooses desired keys to check, then the next look counts who holds the value, who reports another and who never reported, each opening its list, and the choice is audited', async () => {
    const before = await lookAfter(read);
    // Three devices are asked for firmware 2.0.3: two report it, berlin-b1-meter-03 runs 1.9.0.
    for (const deviceId of ['berlin-b1-gateway-01', 'berlin-b1-hvac-02', 'berlin-b1-meter-03']) {
      const { twin } = (await stack.api(`/api/devices/${deviceId}`)).body;
      const saved = await stack.api(`/api/devices/${deviceId}/twin`, {
        method: 'PATCH',
        json: {
          etag: twin.etag,
          desired: {
            firmware: { version: '2.0.3', ...(deviceId.endsWith('01') ? { channel: 'beta' } : {}) },
          },
        },
      });
      expect(saved.status).toBe(200);
    }
    const refused = await stack.api('/api/overview/settings', {
      method: 'PUT',
      json: { tag: "site' OR 1=1", driftKeys: [] },
    });
    expect(refused.status).toBe(400);

    // On module twins: lyon's telemetry module is asked for 60 s and still reports 30.
    const { twin: moduleTwin } = (
      await stack.api('/api/devices/lyon-north-gateway-07/modules/telemetry')
    ).body;
    expect(
      (
        await stack.api('/api/devices/lyon-north-gateway-07/modules/telemetry/twin', {
          method: 'PATCH',
          json: { etag: moduleTwin.etag, desired: { sendIntervalSeconds: 60 } },
        })
      ).status,
    ).toBe(200);
    const saved = await stack.api('/api/overview/settings', {
      method: 'PUT',
      json: {
        tag: 'role',
        driftKeys: ['firmware.version', 'firmware.channel'],
        moduleDriftKeys: ['sendIntervalSeconds', 'setpoint.celsius'],
      },
    });
    expect(saved.status).toBe(200);
    const { snapshot } = await lookAfter(read, before.snapshot!.takenAt);
    expect(snapshot!.tag.key).toBe('role');
    const [version, channel] = snapshot!.drift;
    expect(version).toMatchObject({
      key: 'firmware.version',
      asked: { count: 3 },
      holds: { count: 2 },
      differs: { count: 1 },
      neverReported: { count: 0 },
    });
    expect(channel).toMatchObject({ asked: { count: 1 }, neverReported: { count: 1 } });
    for (const bar of [version!.holds, version!.differs, channel!.neverReported])
      expect(await listed(stack, bar), bar.label).toBe(bar.count);
    const differs = await stack.api(
      `/api/devices?where=${encodeURIComponent(version!.differs.where!)}`,
    );
    expect(differs.body.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([
      'berlin-b1-meter-03',
    ]);

    // Module twins: every device has a telemetry module; gateways and hvac units a controller,
    // whose setpoint nothing reports.
    const [interval, setpoint] = snapshot!.drift.slice(2);
    expect(interval).toMatchObject({
      key: 'sendIntervalSeconds',
      on: 'modules',
      asked: { count: 12 },
      holds: { count: 11 },
      differs: { count: 1 },
    });
    expect(setpoint).toMatchObject({
      on: 'modules',
      neverReported: { count: setpoint!.asked.count },
    });
    expect(setpoint!.asked.count).toBeGreaterThan(0);
    for (const bar of [interval!.holds, interval!.differs, setpoint!.neverReported])
      expect(await listed(stack, bar, 'modules'), bar.label).toBe(bar.count);
    const moduleDiffers = await stack.api(
      `/api/modules?where=${encodeURIComponent(interval!.differs.where!)}`,
    );
    expect(
      moduleDiffers.body.items.map((m: { deviceId: string; moduleId: string }) => [
        m.deviceId,
        m.moduleId,
      ]),
    ).toEqual([['lyon-north-gateway-07', 'telemetry']]);

    // Saving again at once is kept, but takes no second look: the hub's queries are not
    // spent on every save (the next look comes on schedule).
    const servedBefore = stack.emulator.served.of('query');
    const again = await stack.api('/api/overview/settings', {
      method: 'PUT',
      json: { tag: 'site', driftKeys: ['firmware.version'] },
    });
    expect(again.status).toBe(200);
    expect((await read()).settings.tag).toBe('site');
    expect((await read()).snapshot!.takenAt).toBe(snapshot!.takenAt);
    expect(stack.emulator.served.of('query')).toBe(servedBefore);

    // A key a newer replica saved (a rolling deploy) is dropped, the team's choice kept.
    await stack.bff.db.query(
      `UPDATE overview_settings SET settings = settings || '{"keyFromANewerVersion": 1}'::jsonb`,
    );
    expect((await read()).settings).toEqual({
      tag: 'site',
      driftKeys: ['firmware.version'],
      moduleDriftKeys: [],
    });

    const audit = await stack.api('/api/audit?kind=fleet');
    expect(audit.body.entries.slice(0, 2)).toMatchObject([
      { action: 'fleet.overview-settings', change: { tag: 'site' }, result: 'succeeded' },
      {
        action: 'fleet.overview-settings',
        change: {
          tag: 'role',
          driftKeys: ['firmware.version', 'firmware.channel'],
          moduleDriftKeys: ['sendIntervalSeconds', 'setpoint.celsius'],
        },
        result: 'succeeded',
      },
    ]);
  });
});

describe.skipIf(!hasPostgres)('the overview on two replicas', () => {
  // Both replicas budget as one S1 unit: 20 queries a minute for the whole hub.
  const { stack, replicaB } = useTwoReplicas('S1');

  it('when 20 tabs read the overview on two replicas, then the hub is asked once per look, at a pace within the S1 budget, and every tab sees the same look', async () => {
    const replicas = [stack.bff.url, replicaB().url];
    const readFrom = async (url: string) =>
      (await (await fetch(`${url}/api/overview`)).json()) as OverviewResponse;
    const first = await lookAfter(() => readFrom(replicas[0]!));
    const servedBefore = stack.emulator.served.of('query');

    // 20 tabs, ten on each replica, each reading every 250 ms for 5 s.
    const seen = new Set<string>();
    await Promise.all(
      Array.from({ length: 20 }, async (_, tab) => {
        for (let i = 0; i < 20; i++) {
          const overview = await readFrom(replicas[tab % 2]!);
          seen.add(overview.snapshot!.takenAt);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }),
    );
    // 400 reads, not one hub query: the looks come from the schedule alone.
    expect(stack.emulator.served.of('query') - servedBefore).toBe(0);
    expect([...seen]).toEqual([first.snapshot!.takenAt]);

    // The schedule spaces looks so the overview keeps to a fifth of the hub's 20 a minute.
    const { snapshot, intervalSeconds, nextAt } = first;
    const perMinute = (snapshot!.queries * 60) / intervalSeconds;
    expect(perMinute).toBeLessThanOrEqual(20 * 0.2);
    expect(Date.parse(nextAt!) - Date.parse(snapshot!.takenAt)).toBeGreaterThanOrEqual(
      (intervalSeconds - 1) * 1000,
    );
  }, 30_000);
});
