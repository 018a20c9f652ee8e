import { afterAll, describe, expect, it } from 'vitest';
import type { FleetActivityResponse } from '@twinscope/contract';
import { parseConfig } from '../config/index.ts';
import { startBff, type RunningBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { freshDatabaseDir } from './embedded-database.ts';
import { eventHubsStream, tempAuditFile, useStack, type Harness } from './harness.ts';

describe("BFF: every twin's history and the fleet's activity", () => {
  const stack: Harness = useStack({
    emulator: { routes: ['TwinChangeEvents'], consumerGroups: ['twinscope'] },
    env: () => ({ TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString }),
  });
  const others: RunningBff[] = [];
  afterAll(async () => {
    await Promise.allSettled(others.map((bff) => bff.close()));
  });

  const changeTags = async (deviceId: string, tags: Record<string, unknown>) => {
    const { responseBody: twin } = await stack.registry.getTwin(deviceId);
    await stack.registry.updateTwin(deviceId, { tags }, twin.etag);
  };
  const activity = async (query: string) =>
    (await stack.api(`/api/activity${query}`)) as { status: number; body: FleetActivityResponse };

  it('when twins change from Twinscope and from another back end, then the fleet activity lists them newest first with who made them, filtered, and open tabs are told live', async () => {
    await stack.registry.create({ deviceId: 'fa-dev-01' });
    const { stream, hello } = await eventHubsStream(stack.bff.url);
    try {
      const watched = await stack.api(`/api/events/${hello.data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [], fleet: true },
      });
      expect(watched.status).toBe(204);
      await changeTags('fa-dev-01', { site: 'lyon' });
      const { twin } = (await stack.api('/api/devices/fa-dev-01')).body;
      const patched = await stack.api('/api/devices/fa-dev-01/twin', {
        method: 'PATCH',
        json: { etag: twin.etag, desired: { firmware: { version: '2.1' } } },
      });
      expect(patched.status).toBe(200);
      const told = await stream.next((e) => e.event === 'fleet-changes');
      expect(told.data.count).toBeGreaterThanOrEqual(1);
    } finally {
      stream.close();
    }
    await expect
      .poll(async () => (await activity('?deviceId=fa-dev-01')).body.changes.length, {
        timeout: 10_000,
      })
      .toBe(2);
    const { body } = await activity('?deviceId=fa-dev-01');
    expect(body.changes.map((c) => [c.source, c.by, c.sections, c.changes])).toEqual([
      ['twinscope', 'Local operator', ['desired'], ['desired.firmware.version: "2.1"']],
      ['backend', 'another back end', ['tags'], ['tags.site: "lyon"']],
    ]);
    // Each change opens the twin at its version.
    const newest = body.changes[0]!;
    await expect
      .poll(
        async () => (await stack.api(`/api/devices/fa-dev-01/versions/${newest.version}`)).body,
        {
          timeout: 10_000,
        },
      )
      .toMatchObject({ tags: { site: 'lyon' }, desired: { firmware: { version: '2.1' } } });

    expect((await activity('?deviceId=fa-dev-01&source=twinscope')).body.changes).toHaveLength(1);
    expect(
      (await activity('?key=firmware.version&section=desired')).body.changes.map((c) => c.deviceId),
    ).toEqual(['fa-dev-01']);
    const paged = await activity('?deviceId=fa-dev-01&limit=1');
    expect(paged.body.next).toBeDefined();
    const older = await activity(`?deviceId=fa-dev-01&limit=1&before=${paged.body.next}`);
    expect(older.body.changes[0]!.version).toBe(body.changes[1]!.version);

    for (const bad of [
      '?section=gossip',
      '?source=someone',
      '?key=a..b',
      '?before=yesterday',
      '?limit=0',
      '?colour=red',
      `?deviceId=${'d'.repeat(200)}`,
    ]) {
      const refused = await stack.api(`/api/activity${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.message, bad).toBeTruthy();
      expect(refused.text).not.toMatch(/at .*\.ts:\d+/);
    }
  }, 40_000);

  it('when a watched twin changes, then its tab hears that the version is stored once the history holds it, so the versions list needs no guessed wait', async () => {
    await stack.registry.create({ deviceId: 'vs-dev-01' });
    const { stream, hello } = await eventHubsStream(stack.bff.url);
    try {
      const watched = await stack.api(`/api/events/${hello.data.streamId}/watch`, {
        method: 'POST',
        json: { twins: [{ deviceId: 'vs-dev-01' }] },
      });
      expect(watched.status).toBe(204);
      await changeTags('vs-dev-01', { site: 'graz' });
      const changed = await stream.next(
        (e) => e.event === 'twin' && e.data.deviceId === 'vs-dev-01',
      );
      const stored = await stream.next(
        (e) =>
          e.event === 'version-stored' &&
          e.data.deviceId === 'vs-dev-01' &&
          e.data.version === changed.data.twin.version,
      );
      // Told when it holds it: read at once, the list has that version.
      const { versions } = (await stack.api('/api/devices/vs-dev-01/versions')).body;
      expect(versions.map((v: { version: number }) => v.version)).toContain(stored.data.version);
    } finally {
      stream.close();
    }
  });

  it('when the BFF was stopped while twins changed, then on start it reads the changes back from the endpoint and the history has no gap', async () => {
    await stack.registry.create({ deviceId: 'cu-dev-01' });
    const dir = freshDatabaseDir();
    const start = async () => {
      const config = parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: stack.emulator.serviceConnectionString,
        TWINSCOPE_EVENTS_CONNECTION_STRING: stack.emulator.events.connectionString,
        TWINSCOPE_PORT: '0',
        TWINSCOPE_HUB_TIER: 'unlimited',
        TWINSCOPE_AUDIT_FILE: tempAuditFile(),
        TWINSCOPE_DATABASE_DIR: dir,
      });
      config.hub.ca = stack.emulator.tls.caCert;
      const bff = await startBff(
        config,
        createLogger('error', () => undefined),
      );
      others.push(bff);
      // Reading the endpoint: changes from now on reach this BFF's consumer.
      (await eventHubsStream(bff.url)).stream.close();
      return bff;
    };
    const versionsOn = async (bff: RunningBff) =>
      (await (await fetch(`${bff.url}/api/devices/cu-dev-01/versions`)).json()) as {
        versions: { version: number }[];
        gaps: unknown[];
      };

    const first = await start();
    await changeTags('cu-dev-01', { step: 1 });
    await expect
      .poll(async () => (await versionsOn(first)).versions.length, { timeout: 10_000 })
      .toBe(1);
    await first.history!.caughtUp();
    await first.close();

    // While no Twinscope reads the endpoint.
    await changeTags('cu-dev-01', { step: 2 });
    await changeTags('cu-dev-01', { step: 3 });
    const now = (
      (await stack.registry.getTwin('cu-dev-01')).responseBody as unknown as { version: number }
    ).version;

    const second = await start();
    await changeTags('cu-dev-01', { step: 4 });
    await expect
      .poll(async () => (await versionsOn(second)).versions.map((v) => v.version), {
        timeout: 15_000,
      })
      .toEqual([now + 1, now, now - 1, now - 2]);
    expect((await versionsOn(second)).gaps).toEqual([]);
    const atStep2 = await fetch(`${second.url}/api/devices/cu-dev-01/versions/${now - 1}`);
    expect(await atStep2.json()).toMatchObject({ tags: { step: 2 } });
  }, 60_000);
});
