import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A child process of the product, started and waited for until it says it is ready. */
function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (ready.test(seen)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${seen}`)));
  });
}

/**
 * A second Twinscope on a second, empty emulator (its own Azurite and database), built as
 * `npm start` runs it: where a fleet exported from the first is imported.
 */
export async function startEmptyStack(name: string) {
  const dataDir = join(root, 'test-results', name);
  rmSync(dataDir, { recursive: true, force: true });
  const [https, mqtt, amqp, amqps, port] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    }
  };
  try {
    children.push(
      await start(
        [
          'packages/hub-emulator/dist/cli.js',
          '--data-dir',
          dataDir,
          '--https-port',
          String(https),
          '--mqtt-port',
          String(mqtt),
          '--amqp-port',
          String(amqp),
          '--amqps-port',
          String(amqps),
        ],
        {},
        /Press Ctrl\+C/,
      ),
    );
    children.push(
      await start(
        ['dist/console/main.js'],
        {
          TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
          TWINSCOPE_DATABASE_DIR: join(dataDir, 'db'),
          TWINSCOPE_AUDIT_FILE: join(dataDir, 'audit.jsonl'),
          TWINSCOPE_STATIC_DIR: join(root, 'dist/console/public'),
          TWINSCOPE_PORT: String(port),
          TWINSCOPE_LIVE_SOURCE: 'polling',
        },
        /Twinscope BFF is listening/,
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, dataDir, stop };
}
