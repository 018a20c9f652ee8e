// What `npm run build` ships, used as an operator would use it: dist/console copied to an empty
// folder outside the workspace and started with `npm start`; the emulator's tarball installed
// into an empty project and started with `npx hub-emulator`. Plain node, no loader: the console
// must list the emulator's demo fleet. Run by `npm test` after the build (node --test).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { version } = JSON.parse(
  readFileSync(join(root, 'packages/hub-emulator/package.json'), 'utf8'),
);
const tarball = join(root, 'dist', `hub-emulator-${version}.tgz`);
const place = mkdtempSync(join(tmpdir(), 'twinscope-built-'));
// As root, the console's embedded PostgreSQL runs as another user, who must reach its data.
chmodSync(place, 0o755);
const consoleDir = join(place, 'console');
const projectDir = join(place, 'my-project');
const dataDir = join(place, 'hub-data');
const children = [];

/** Starts a command and resolves with the first output line `ready` matches (and the time). */
function start(command, args, options, ready) {
  const begun = Date.now();
  // Its own process group, as a terminal gives a command: Ctrl+C (SIGINT) reaches npx and
  // what it runs, and cleaning up ends them all.
  const child = spawn(command, args, {
    ...options,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} ${args[0]} did not start:\n${output}`)),
      60_000,
    );
    const onData = (chunk) => {
      output += chunk;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, ms: Date.now() - begun, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}):\n${output}`));
    });
  });
}

/** Every file under a folder, node_modules included or not. */
function files(dir, { modules = false } = {}) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => modules || !path.includes(`${join(dir, 'node_modules')}`));
}

const stopped = (child) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

before(() => {
  assert.ok(existsSync(join(root, 'dist/console/main.js')), 'dist/console is built');
  assert.ok(existsSync(tarball), `${tarball} is built`);
  cpSync(join(root, 'dist/console'), consoleDir, { recursive: true, verbatimSymlinks: true });
  mkdirSync(projectDir);
  writeFileSync(
    join(projectDir, 'package.json'),
    JSON.stringify({ name: 'my-project', private: true, type: 'module' }),
  );
  const installed = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball],
    { cwd: projectDir, encoding: 'utf8' },
  );
  assert.equal(installed.status, 0, `npm install of the tarball: ${installed.stderr}`);
});

/** Signals a started command's whole process group. */
const signal = (child, name) => {
  try {
    process.kill(-child.pid, name);
  } catch {
    // Already gone.
  }
};

after(async () => {
  for (const child of children) signal(child, 'SIGKILL');
  rmSync(place, { recursive: true, force: true });
});

test('what ships holds no TypeScript and no TypeScript loader', () => {
  const ours = [
    ...files(consoleDir),
    ...files(join(projectDir, 'node_modules/@twinscope/hub-emulator'), { modules: true }),
  ];
  assert.ok(ours.some((f) => f.endsWith('main.js')));
  assert.deepEqual(
    ours.filter((f) => /\.(ts|tsx|mts|cts)$/.test(f)),
    [],
  );
  for (const dir of [consoleDir, projectDir]) {
    const modules = readdirSync(join(dir, 'node_modules'));
    const pnpmStore = existsSync(join(dir, 'node_modules/.pnpm'))
      ? readdirSync(join(dir, 'node_modules/.pnpm'))
      : [];
    for (const loader of ['tsx', 'typescript', 'vite', 'esbuild', 'vitest'])
      assert.ok(
        !modules.includes(loader) && !pnpmStore.some((p) => p.startsWith(`${loader}@`)),
        `${loader} is not installed in ${dir}`,
      );
  }
});

test(
  'the emulator from its tarball starts with npx, and the console from its folder lists its fleet',
  { timeout: 180_000 },
  async (t) => {
    const emulator = await start(
      'npx',
      [
        'hub-emulator',
        '--data-dir',
        dataDir,
        '--seed',
        'demo',
        ...['--https-port', '0', '--mqtt-port', '0', '--amqps-port', '0', '--amqp-port', '0'],
        ...['--route', 'TwinChangeEvents', '--consumer-group', 'twinscope'],
      ],
      { cwd: projectDir },
      /Press Ctrl\+C to stop\./,
    );
    t.diagnostic(`npx hub-emulator was ready in ${emulator.ms} ms (storage: Azurite)`);
    // As the image runs it: node itself, so SIGTERM reaches it.
    const bff = await start(
      process.execPath,
      ['--enable-source-maps', 'main.js'],
      {
        cwd: consoleDir,
        env: {
          ...process.env,
          TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
          TWINSCOPE_DATABASE_DIR: join(place, 'db'),
          TWINSCOPE_PORT: '0',
        },
      },
      /"Twinscope BFF is listening","url":"([^"]+)"/,
    );
    const url = bff.match[1];
    // The team's state in the embedded default: a PostgreSQL server of the console's own,
    // from the binaries its dependencies carry.
    assert.match(bff.output(), /"kind":"postgresql","at":"the embedded PostgreSQL in [^"]+"/);
    assert.ok(serverOf(join(place, 'db')), 'the embedded PostgreSQL runs beside the console');
    const devices = await (await fetch(`${url}/api/devices`)).json();
    const ids = devices.items.map((d) => d.deviceId);
    assert.ok(ids.includes('berlin-b1-gateway-01'), `the demo fleet is listed: ${ids.join(', ')}`);
    assert.ok(ids.length >= 12);
    const page = await (await fetch(`${url}/devices/berlin-b1-gateway-01`)).text();
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(page)?.[1];
    assert.ok(script, 'a deep link answers the console');
    assert.equal((await fetch(`${url}${script}`)).status, 200);

    // SIGTERM ends the console cleanly, as a container's stop would; Ctrl+C the emulator.
    bff.child.kill('SIGTERM');
    assert.equal(await stopped(bff.child), 0, bff.output());
    assert.equal(serverOf(join(place, 'db')), undefined, 'its PostgreSQL stopped with it');
    const hub = JSON.parse(readFileSync(join(dataDir, 'connection.json'), 'utf8'));
    assert.ok(await listening(hub.hostName, hub.httpsPort));
    signal(emulator.child, 'SIGINT');
    await stopped(emulator.child);
    for (let i = 0; i < 100 && (await listening(hub.hostName, hub.httpsPort)); i++)
      await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await listening(hub.hostName, hub.httpsPort), false, 'the emulator stopped');
  },
);

test("another project's tests start the emulator from the package, with the development keys", async () => {
  // What a vitest or jest globalSetup does (packages/hub-emulator/README.md), as plain node.
  writeFileSync(
    join(projectDir, 'setup.mjs'),
    `import { request } from 'node:https';
import { createSasToken, DEVELOPMENT_KEYS, startHubEmulator } from '@twinscope/hub-emulator';
const hub = await startHubEmulator({ seed: 'demo', developmentKeys: true });
const key = /SharedAccessKey=([^;]+)/.exec(hub.serviceConnectionString)[1];
const token = createSasToken(hub.hostName, DEVELOPMENT_KEYS.primaryKey, Math.floor(Date.now() / 1000) + 60, 'iothubowner');
const body = await new Promise((resolve, reject) =>
  request({ host: hub.hostName, port: hub.httpsPort, ca: hub.caCert,
    path: '/statistics/devices?api-version=2021-04-12', headers: { authorization: token } },
    (res) => { let text = ''; res.on('data', (c) => (text += c)); res.on('end', () => resolve(text)); },
  ).on('error', reject).end());
// The provisioning service beside it, with its published development key.
const dpsKey = /SharedAccessKey=([^;]+)/.exec(hub.provisioning.serviceConnectionString)[1];
const dpsToken = createSasToken(hub.hostName, dpsKey, Math.floor(Date.now() / 1000) + 60, 'provisioningserviceowner');
const enrollments = await new Promise((resolve, reject) =>
  request({ host: hub.hostName, port: hub.httpsPort, ca: hub.caCert, method: 'POST',
    path: '/enrollments/query?api-version=2021-10-01',
    headers: { authorization: dpsToken, 'content-type': 'application/json' } },
    (res) => { let text = ''; res.on('data', (c) => (text += c)); res.on('end', () => resolve({ status: res.statusCode, text })); },
  ).on('error', reject).end('{"query":"SELECT *"}'));
await hub.stop();
console.log(JSON.stringify({ key, statistics: JSON.parse(body), device: hub.deviceConnectionString('berlin-b1-gateway-01'), idScope: hub.provisioning.idScope, dpsKey, enrollments }));
`,
  );
  const ran = spawnSync(process.execPath, ['setup.mjs'], { cwd: projectDir, encoding: 'utf8' });
  assert.equal(ran.status, 0, ran.stderr);
  const { key, statistics, device, idScope, dpsKey, enrollments } = JSON.parse(
    ran.stdout.trim().split('\n').at(-1),
  );
  // The key the package's README publishes.
  assert.equal(key, '6EHicCLArcWSij5njXpn3yS/6p/QO9FhmMUfgxK4thQ=');
  assert.equal(statistics.totalDeviceCount, 12);
  assert.match(device, /^HostName=[^;]+;DeviceId=berlin-b1-gateway-01;SharedAccessKey=/);
  assert.equal(idScope, '0ne00000000');
  assert.equal(dpsKey, 'ZW11bGF0b3ItZGV2ZWxvcG1lbnQtcHJvdmlzaW9uaW5nLW93bmVyLWtleS0wMDAwMA==');
  assert.deepEqual(enrollments, { status: 200, text: '[]' });
});

/** Whether something accepts TCP connections there. */
function listening(host, port) {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The process id of a PostgreSQL server whose data is in `<dir>/postgresql`, if one runs. */
function serverOf(dir) {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const data = args.indexOf('-D');
    if (args[0]?.endsWith('/postgres') && args[data + 1] === join(dir, 'postgresql')) return pid;
  }
  return undefined;
}
