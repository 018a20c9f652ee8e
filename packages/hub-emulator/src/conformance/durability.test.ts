import { spawn, type ChildProcess } from 'node:child_process';
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
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkRegistry as registryFor } from './hub.ts';
import { expectSdkError } from './sdk-errors.ts';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../bin/hub-emulator.mjs');

interface Connection {
  hostName: string;
  httpsPort: number;
  serviceConnectionString: string;
  caCertFile: string;
  mqttPort: number;
}

/** Starts the real CLI as its own process and waits for its banner. */
async function startCli(
  dataDir: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; connection: Connection; banner: string }> {
  const child = spawn(
    process.execPath,
    [
      cli,
      '--data-dir',
      dataDir,
      '--https-port',
      '0',
      '--mqtt-port',
      '0',
      '--amqps-port',
      '0',
      '--amqp-port',
      '0',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${output}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}: ${output}`)));
  });
  child.removeAllListeners('exit');
  const connection = JSON.parse(
    readFileSync(join(dataDir, 'connection.json'), 'utf8'),
  ) as Connection;
  return { child, connection, banner: output };
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('durable state in the data dir', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const newDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-emulator-'));
    dirs.push(dir);
    return dir;
  };

  it('when the process is killed with SIGKILL mid-stream, then every acknowledged write is there after restart', async () => {
    const dataDir = newDataDir();
    const first = await startCli(dataDir);
    children.push(first.child);
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
            await killHard(first.child);
          }
        } catch {
          return;
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(writer));
    expect(acknowledged.length).toBeGreaterThanOrEqual(150);

    const second = await startCli(dataDir);
    children.push(second.child);
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
    await killHard(second.child);
  });

  it('when the journal ends in a torn line, then the hub starts with everything before it', async () => {
    const dataDir = newDataDir();
    const first = await startCli(dataDir);
    children.push(first.child);
    const ca = readFileSync(first.connection.caCertFile, 'utf8');
    const registry = registryFor(first.connection.serviceConnectionString, ca);
    await registry.create({ deviceId: 'kept' });
    await registry.addModule({ deviceId: 'kept', moduleId: 'm1' });
    await registry.create({ deviceId: 'removed' });
    await registry.delete('removed');
    await killHard(first.child);
    appendFileSync(
      join(dataDir, 'state', 'journal.jsonl'),
      '{"counters":{"etag":99999,"sequence":1},"operations":[{"put":{"deviceId":"to',
    );

    const second = await startCli(dataDir);
    children.push(second.child);
    const after = registryFor(second.connection.serviceConnectionString, ca);
    expect((await after.getModule('kept', 'm1')).responseBody.moduleId).toBe('m1');
    await expectSdkError(after.get('removed'), 'DeviceNotFoundError');
    expect((await after.list()).responseBody.map((d) => d.deviceId)).toEqual(['kept']);
    await killHard(second.child);
  });

  it('when a large fleet is seeded, then it is stored as a snapshot and survives a restart', async () => {
    const dataDir = newDataDir();
    const first = await startCli(dataDir, ['--seed', '2000']);
    children.push(first.child);
    await killHard(first.child);
    const second = await startCli(dataDir, ['--seed', '5']);
    children.push(second.child);
    const ca = readFileSync(second.connection.caCertFile, 'utf8');
    const registry = registryFor(second.connection.serviceConnectionString, ca);
    expect((await registry.getRegistryStatistics()).responseBody.totalDeviceCount).toBe(2000);
    await killHard(second.child);
  });
});

describe('files that hold keys', () => {
  it('when the hub writes its data dir, then key files are owner-only (older ones tightened) and the banner shows no key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hub-emulator-'));
    try {
      const first = await startCli(dataDir, ['--seed', '2000']);
      await killHard(first.child);
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
      const second = await startCli(dataDir);
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
        await killHard(second.child);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
