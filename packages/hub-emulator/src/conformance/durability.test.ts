import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkRegistry as registryFor } from './hub.ts';
import { expectSdkError } from './sdk-errors.ts';
import { spawnEmulator, type SpawnedEmulator } from '../spawn.ts';

// The real CLI as its own process, so SIGKILL is a real crash.
describe('durable state in the data dir', () => {
  const dirs: string[] = [];
  const hubs: SpawnedEmulator[] = [];
  afterAll(async () => {
    for (const hub of hubs) await hub.stop('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-emulator-'));
    dirs.push(dir);
    return dir;
  };

  it('when the process is killed with SIGKILL mid-stream, then every acknowledged write is there after restart', async () => {
    const dataDir = newDataDir();
    const first = await spawnEmulator({ dataDir });
    hubs.push(first);
    const ca = readFileSync(first.connection.caCertFile, 'utf8');
    expect(first.connection.mqttPort).toBeGreaterThan(0);
    const registry = registryFor(first.connection.serviceConnectionString, ca);
    await registry.create({ deviceId: 'survivor' });

    const acknowledged: number[] = [];
    let killed = false;
    const writer = async (lane: number) => {
      for (let i = lane; i < 10_000 && !killed; i += 4) {
        try {
          await registry.updateTwin('survivor', { tags: { [`k${i}`]: i } }, '*');
          acknowledged.push(i);
          if (acknowledged.length === 150) {
            killed = true;
            await first.stop('SIGKILL');
          }
        } catch {
          return;
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    expect(acknowledged.length).toBeGreaterThanOrEqual(150);

    const second = await spawnEmulator({ dataDir });
    hubs.push(second);
    // Same CA and the same keys: clients keep working across restarts.
    expect(second.connection.caCertFile).toBe(first.connection.caCertFile);
    expect(second.connection.serviceConnectionString.split(';')[2]).toBe(
      first.connection.serviceConnectionString.split(';')[2],
    );
    const after = registryFor(second.connection.serviceConnectionString, ca);
    const { responseBody: twin } = await after.getTwin('survivor');
    const tags = twin.tags as unknown as Record<string, number>;
    const missing = acknowledged.filter((i) => tags[`k${i}`] !== i);
    expect(missing).toEqual([]);
    expect((twin as unknown as { version: number }).version).toBe(Object.keys(tags).length + 1);
    await second.stop('SIGKILL');
  });

  it('when the journal ends in a torn line, then the hub starts with everything before it', async () => {
    const dataDir = newDataDir();
    const first = await spawnEmulator({ dataDir });
    hubs.push(first);
    const ca = readFileSync(first.connection.caCertFile, 'utf8');
    const registry = registryFor(first.connection.serviceConnectionString, ca);
    await registry.create({ deviceId: 'kept' });
    await registry.addModule({ deviceId: 'kept', moduleId: 'm1' });
    await registry.create({ deviceId: 'removed' });
    await registry.delete('removed');
    await first.stop('SIGKILL');
    appendFileSync(
      join(dataDir, 'state', 'journal.jsonl'),
      '{"counters":{"etag":99999,"sequence":1},"operations":[{"put":{"deviceId":"to',
    );

    const second = await spawnEmulator({ dataDir });
    hubs.push(second);
    const after = registryFor(second.connection.serviceConnectionString, ca);
    expect((await after.getModule('kept', 'm1')).responseBody.moduleId).toBe('m1');
    await expectSdkError(after.get('removed'), 'DeviceNotFoundError');
    expect((await after.list()).responseBody.map((d) => d.deviceId)).toEqual(['kept']);
    await second.stop('SIGKILL');
  });

  it('when a large fleet is seeded, then it is stored as a snapshot and survives a restart', async () => {
    const dataDir = newDataDir();
    const first = await spawnEmulator({ dataDir, args: ['--seed', '2000'] });
    hubs.push(first);
    await first.stop('SIGKILL');
    const second = await spawnEmulator({ dataDir, args: ['--seed', '5'] });
    hubs.push(second);
    const ca = readFileSync(second.connection.caCertFile, 'utf8');
    const registry = registryFor(second.connection.serviceConnectionString, ca);
    expect((await registry.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(2000);
    await second.stop('SIGKILL');
  });
});

describe('files that hold keys', () => {
  it('when the hub writes its data dir, then key files are owner-only (older ones tightened) and the banner shows no key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hub-emulator-'));
    try {
      const first = await spawnEmulator({ dataDir, args: ['--seed', '2000'] });
      await first.stop('SIGKILL');
      const keyFiles = [
        'policies.json',
        'connection.json',
        'state/journal.jsonl',
        'state/snapshot.jsonl',
        'certs/ca-key.pem',
        'certs/server-key.pem',
      ].map((file) => join(dataDir, file));
      // As an older version left them: readable by everyone.
      for (const file of keyFiles) {
        expect(existsSync(file), file).toBe(true);
        chmodSync(file, 0o644);
      }
      const second = await spawnEmulator({ dataDir });
      try {
        await registryFor(
          second.connection.serviceConnectionString,
          readFileSync(second.connection.caCertFile, 'utf8'),
        ).create({ deviceId: 'after-restart' });
        for (const file of keyFiles) expect(statSync(file).mode & 0o777, file).toBe(0o600);
        expect(statSync(join(dataDir, 'certs/ca.pem')).mode & 0o044).not.toBe(0);
        const key = /SharedAccessKey=([^;]+)/.exec(second.connection.serviceConnectionString)![1]!;
        expect(second.banner).not.toContain(key);
        expect(second.banner).not.toContain('SharedAccessKey');
        expect(second.banner).toContain(join(dataDir, 'connection.json'));
      } finally {
        await second.stop('SIGKILL');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
