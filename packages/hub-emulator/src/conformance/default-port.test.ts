import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '../..');

async function port443IsFree(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(443, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

// The SDK cannot be told a port through a connection string, so this needs port 443 (root,
// as in CI). Elsewhere it is skipped and says so.
const canBind443 = await port443IsFree();

describe('an unmodified azure-iothub program with nothing but the connection string', () => {
  it.runIf(canBind443)(
    'when the emulator listens on 443 and NODE_EXTRA_CA_CERTS names its CA, then Registry.fromConnectionString works',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'hub-443-'));
      const child = spawn(
        process.execPath,
        [
          join(packageDir, 'bin/hub-emulator.mjs'),
          '--data-dir',
          dataDir,
          '--https-port',
          '443',
          '--mqtt-port',
          '0',
          '--amqps-port',
          '0',
          '--amqp-port',
          '0',
          '--seed',
          'demo',
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout!.on(
            'data',
            (chunk: Buffer) => chunk.toString().includes('Press Ctrl+C') && resolve(),
          );
          child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
        });
        const connection = JSON.parse(readFileSync(join(dataDir, 'connection.json'), 'utf8')) as {
          serviceConnectionString: string;
          caCertFile: string;
        };
        expect(connection.serviceConnectionString).toMatch(
          /^HostName=localhost;SharedAccessKeyName=iothubowner;/,
        );
        const program = `
        const { Registry } = require('azure-iothub');
        const registry = Registry.fromConnectionString(process.argv[1]);
        registry.list()
          .then((r) => registry.getTwin(r.responseBody[0].deviceId).then((t) => console.log(r.responseBody.length, t.responseBody.tags.site)))
          .catch((e) => { console.error(e.constructor.name, e.message); process.exit(1); });`;
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ['-e', program, connection.serviceConnectionString],
          {
            cwd: packageDir,
            env: { ...process.env, NODE_EXTRA_CA_CERTS: connection.caCertFile },
          },
        );
        expect(stdout.trim()).toBe('12 berlin');
      } finally {
        child.kill('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});
