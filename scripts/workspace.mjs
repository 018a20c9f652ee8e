#!/usr/bin/env node
// Entry point for the README's two commands on a machine that has only Node.js and npm.
// It bootstraps the pnpm version pinned in package.json through npx, installs the
// workspace from the lockfile, then runs the requested task with that pnpm.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`twinscope: could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  return result.status ?? 1;
}

function pnpm(args, options = {}) {
  const env = { ...(options.env ?? process.env), npm_config_update_notifier: 'false' };
  return run('npx', ['-y', pinned, ...args], { env });
}

/**
 * A Node.js major from the npm registry (the `node` package carries the binary), kept in
 * .cache/node<major>; answers the folder to put first on PATH, after checking it runs.
 */
function nodeFromRegistry(major) {
  const prefix = join(root, '.cache', `node${major}`);
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'node')))
    must(
      run('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `node@${major}`], {
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
      `installing Node ${major}`,
    );
  const version = spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith(`v${major}.`)) {
    console.error(
      `twinscope: .cache/node${major} holds ${version || 'no node'}, not Node ${major}`,
    );
    process.exit(1);
  }
  console.log(`twinscope: Node ${version} from the npm registry`);
  return bin;
}

/**
 * Runs independent steps side by side, each with its output held back and printed whole when
 * it ends (so logs do not interleave; one `live` step prints as it goes); resolves once all are done, failing with the first
 * that failed. Timings are printed, so a slow step shows.
 */
async function together(steps) {
  const started = Date.now();
  const results = await Promise.all(
    steps.map(
      ({ name, args, live = false }) =>
        new Promise((resolve) => {
          const begun = Date.now();
          const child = spawn('npx', ['-y', pinned, ...args], {
            cwd: root,
            env: { ...process.env, npm_config_update_notifier: 'false' },
            // One step at a time may print as it goes (the long one); the others wait.
            stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'],
          });
          const output = [];
          child.stdout?.on('data', (chunk) => output.push(chunk));
          child.stderr?.on('data', (chunk) => output.push(chunk));
          const done = (status) => {
            const seconds = ((Date.now() - begun) / 1000).toFixed(0);
            process.stdout.write(`\n=== ${name} (${seconds} s, exit ${status}) ===\n`);
            process.stdout.write(Buffer.concat(output));
            resolve({ name, status });
          };
          child.on('error', () => done(1));
          child.on('close', (status) => done(status ?? 1));
        }),
    ),
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`twinscope: ${steps.map((s) => s.name).join(', ')} took ${seconds} s side by side`);
  for (const { name, status } of results) must(status, name);
}

function must(status, what) {
  if (status !== 0) {
    console.error(`twinscope: ${what} failed (exit ${status})`);
    process.exit(status);
  }
}

const hasCommand = (command, args = ['--version']) =>
  spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const hasKubectl = () => hasCommand('kubectl', ['version', '--client']);

/** Debian's PostgreSQL server programs (`initdb`, `postgres`), any version. */
const hasPostgres = () =>
  existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((v) =>
    existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')),
  );

/**
 * What the tests need from the system: a Chromium for the end-to-end tests (CHROMIUM_PATH or
 * the system one), redis-server for the shared-session test and PostgreSQL for the store's
 * tests (they start their own servers). As root on Debian, missing ones come from apt in one
 * go; otherwise Playwright's own Chromium download, or a message.
 */
function ensureTestPackages() {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  const findChromium = () => candidates.find((path) => path && existsSync(path));
  const missing = [
    ...(findChromium() ? [] : ['chromium']),
    ...(hasCommand('redis-server') ? [] : ['redis-server']),
    ...(hasPostgres() ? [] : ['postgresql']),
    // kubectl renders the Kubernetes manifests for their check.
    ...(hasKubectl() ? [] : ['kubernetes-client']),
  ];
  const isRoot = process.getuid?.() === 0;
  if (missing.length > 0 && isRoot && existsSync('/usr/bin/apt-get')) {
    console.log(`twinscope: installing ${missing.join(' and ')} (Debian) for the tests`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (run('apt-get', ['update', '-qq'], { env }) === 0)
      run('apt-get', ['install', '-y', '-qq', ...missing], { env });
  }
  if (!hasCommand('redis-server'))
    console.log('twinscope: no redis-server; the shared-session test will be skipped');
  if (!hasPostgres())
    console.log('twinscope: no PostgreSQL; the store runs its tests on PGlite only');
  if (!hasKubectl())
    console.log('twinscope: no kubectl; the Kubernetes manifests will not be checked');
  const found = findChromium();
  if (found) return found;
  if (pnpm(['exec', 'playwright', 'install', 'chromium']) === 0) return undefined;
  console.error(
    'twinscope: no Chromium for the end-to-end tests. Install one (Debian: apt-get install chromium) or set CHROMIUM_PATH.',
  );
  process.exit(1);
}

function install() {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  must(pnpm(['install', ...frozen, '--reporter=append-only']), 'pnpm install');
}

/** What ships: the console's Vite build, then the BFF and the emulator as JavaScript (dist/). */
function build() {
  must(pnpm(['run', 'build:product']), 'building the product');
}

const tasks = {
  async test() {
    install();
    const chromium = ensureTestPackages();
    if (chromium) process.env.CHROMIUM_PATH = chromium;
    // Independent checks side by side: the tests mostly wait (on sockets, timers and child
    // processes), so a second core and more test workers than cores cut the wall time.
    await together([
      { name: 'lint', args: ['run', 'check:lint'] },
      { name: 'format check', args: ['run', 'check:format'] },
      { name: 'type check', args: ['run', 'check:types'] },
    ]);
    await together([
      { name: 'unit and conformance tests', args: ['run', 'check:unit'], live: true },
      { name: 'building the product', args: ['run', 'build:product'] },
    ]);
    // What ships, copied out of the workspace and started with plain node; then the
    // end-to-end tests, on the same built code `npm start` runs.
    must(pnpm(['run', 'check:built']), 'the built product');
    must(pnpm(['run', 'check:deploy']), 'the Kubernetes manifests');
    // The supported runtimes beside this machine's: the suite and the built product again
    // on Node 24, the npm registry's `node` package.
    const node24 = nodeFromRegistry(24);
    const on24 = { env: { ...process.env, PATH: `${node24}:${process.env.PATH}` } };
    must(pnpm(['run', 'check:unit'], on24), 'unit and conformance tests on Node 24');
    must(pnpm(['run', 'check:built'], on24), 'the built product on Node 24');
    must(pnpm(['run', 'check:e2e']), 'end-to-end tests');
  },
  build() {
    install();
    build();
  },
  start() {
    install();
    build();
    must(run(process.execPath, ['scripts/start-stack.mjs', ...process.argv.slice(3)]), 'start');
  },
  dev() {
    install();
    must(pnpm(['run', 'build:web']), 'building the console');
    must(
      run(process.execPath, ['scripts/start-stack.mjs', '--dev', ...process.argv.slice(3)]),
      'start',
    );
  },
};

const task = tasks[process.argv[2] ?? ''];
if (!task) {
  console.error(`usage: node scripts/workspace.mjs <${Object.keys(tasks).join('|')}>`);
  process.exit(2);
}
await task();
