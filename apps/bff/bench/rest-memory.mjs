// Prints the BFF's resident memory at rest, as it ships: the built server (dist/console, no
// TypeScript loader) on a new embedded database against the emulator's demo fleet, sampled
// every 5 s for 30 s. `npm run bench:rest` builds first. BENCH_SOURCE=1 runs the sources
// through tsx instead (what the loader costs); BENCH_DATABASE_URL a PostgreSQL server.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'rest-memory-'));
const children = [];

function start(args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      if (ready.test(output)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args[0]} exited (${code}):\n${output}`)));
  });
}

const residentMb = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

try {
  await start(
    [
      'packages/hub-emulator/dist/cli.js',
      ...['--data-dir', join(dir, 'hub'), '--seed', 'demo', '--storage', 'none'],
      ...['--https-port', '0', '--mqtt-port', '0', '--amqps-port', '0', '--amqp-port', '0'],
      ...['--route', 'TwinChangeEvents', '--consumer-group', 'twinscope'],
    ],
    {},
    /Press Ctrl\+C/,
  );
  const source = process.env.BENCH_SOURCE === '1';
  const database = process.env.BENCH_DATABASE_URL;
  const bff = await start(
    source ? ['scripts/run-ts.mjs', 'apps/bff/src/main.ts'] : ['dist/console/main.js'],
    {
      TWINSCOPE_HUB_CONNECTION_FILE: join(dir, 'hub', 'connection.json'),
      TWINSCOPE_PORT: '0',
      TWINSCOPE_AUDIT_FILE: join(dir, 'audit.jsonl'),
      ...(database
        ? { TWINSCOPE_DATABASE_URL: database }
        : { TWINSCOPE_DATABASE_DIR: join(dir, 'db') }),
    },
    /Twinscope BFF is listening/,
  );
  const samples = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    samples.push(residentMb(bff.pid).toFixed(0));
  }
  console.log(
    `BFF at rest (${source ? 'sources through tsx' : 'built'}, ${database ? 'PostgreSQL server' : 'PGlite, new directory'}): resident ${samples.join(', ')} MB every 5 s`,
  );
} finally {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
