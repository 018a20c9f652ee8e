#!/usr/bin/env node
// Starts the whole product on this machine: the IoT Hub emulator with a demo fleet, then
// the BFF serving the built console, and prints the URL. Ctrl+C stops both.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * This script's own variables (the BFF checks its own), each checked before anything starts;
 * every problem is listed at once.
 */
function startSettings(env) {
  const problems = [];
  const port = (name, fallback) => {
    const text = env[name] ?? fallback;
    if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535)
      problems.push(`  ${name}: "${text}" is not a TCP port (1-65535)`);
    return text;
  };
  const flag = (name) => {
    const text = env[name];
    if (text !== undefined && !['', '0', '1', 'true', 'false'].includes(text))
      problems.push(`  ${name}: "${text}" is not 1 or 0`);
    return text === '1' || text === 'true';
  };
  const settings = {
    dataDir: env.TWINSCOPE_EMULATOR_DATA_DIR || join(root, '.emulator-data'),
    port: port('TWINSCOPE_PORT', '3000'),
    hubPort: port('TWINSCOPE_EMULATOR_PORT', '8443'),
    mqttPort: port('TWINSCOPE_EMULATOR_MQTT_PORT', '8883'),
    // The Event Hubs-compatible endpoint.
    amqpPort: port('TWINSCOPE_EMULATOR_AMQP_PORT', '5672'),
    // Devices and modules over AMQP: 5671, the port the SDKs dial when HostName has none.
    amqpsPort: port('TWINSCOPE_EMULATOR_AMQPS_PORT', '5671'),
    // No quota unless asked (S1 throttles like one S1 unit); the BFF reads which from
    // connection.json and keeps its budgets to it.
    throttle: env.TWINSCOPE_EMULATOR_THROTTLE || undefined,
    signIn: flag('TWINSCOPE_DEV_SIGN_IN'),
    idpPort: port('TWINSCOPE_DEV_IDP_PORT', '4443'),
    verbose: flag('TWINSCOPE_VERBOSE'),
  };
  if (
    settings.throttle !== undefined &&
    !/^(unlimited|none|(F1|S1|S2|S3)(\s*[x×*]\s*\d{1,3})?)$/i.test(settings.throttle.trim())
  )
    problems.push(
      `  TWINSCOPE_EMULATOR_THROTTLE: "${settings.throttle}" is not a hub tier (S1, S2x4, S3, F1)`,
    );
  const ports = ['port', 'hubPort', 'mqttPort', 'amqpPort', 'amqpsPort'].map((k) => settings[k]);
  if (new Set(ports).size !== ports.length)
    problems.push(
      '  TWINSCOPE_PORT, TWINSCOPE_EMULATOR_*_PORT: two of them are the same port; each needs its own',
    );
  if (problems.length > 0) {
    console.error(`npm start: these settings are not valid:\n${problems.join('\n')}`);
    process.exit(2);
  }
  return settings;
}

const settings = startSettings(process.env);
const { dataDir, port, hubPort, mqttPort, amqpPort, amqpsPort, throttle, idpPort } = settings;
// `npm start` runs what `npm run build` made, as it ships: the BFF bundled in dist/console (its
// console in dist/console/public) and the emulator's built JavaScript. `npm run dev` runs the
// sources instead: the BFF restarts when they change, and Vite serves the console with reload.
const dev = process.argv.includes('--dev');
const built = {
  emulator: join(root, 'packages/hub-emulator/dist/cli.js'),
  bff: join(root, 'dist/console/main.js'),
};
const staticDir = dev ? join(root, 'apps/web/dist') : join(root, 'dist/console/public');
// `npm start -- --sign-in`: Entra-style sign-in against the local dev identity provider,
// with three demo users (reader, operator, admin) instead of one local operator.
const signIn = process.argv.includes('--sign-in') || settings.signIn;
const publicUrl = `http://127.0.0.1:${port}`;
const children = [];

function stopAll(code) {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}

/** Starts a process and resolves once a line of its output matches `ready`. */
function start(name, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let seen = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      if (settings.verbose) process.stdout.write(`[${name}] ${text}`);
      seen += text;
      if (ready.test(seen)) {
        seen = '';
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      // oidc-provider's development-only notices are what the dev provider is; not news.
      // Node's notice that rhea (inside Microsoft's SDKs) names an IP address as TLS server
      // name: the emulator's host is 127.0.0.1; a hub's is a DNS name.
      const text = chunk
        .toString()
        .replace(/^oidc-provider (WARNING|NOTICE):.*\n?/gm, '')
        .replace(/^\(node:\d+\) \[DEP0123\].*\n(\(Use `node --trace-deprecation.*\n)?/gm, '');
      if (text.trim()) process.stderr.write(`[${name}] ${text}`);
    });
    child.on('exit', (code) => {
      reject(new Error(`${name} exited with code ${code}`));
      stopAll(code ?? 1);
    });
  });
}

/** The emulator's host name, as it wrote it in connection.json once started. */
const hubHost = () => JSON.parse(readFileSync(join(dataDir, 'connection.json'), 'utf8')).hostName;

for (const file of dev ? [join(staticDir, 'index.html')] : [...Object.values(built)])
  if (!existsSync(file)) {
    console.error(`twinscope: ${file} is not built; run \`npm start\` (it builds first).`);
    process.exit(1);
  }

try {
  await start(
    'emulator',
    [
      dev ? 'packages/hub-emulator/bin/hub-emulator.mjs' : built.emulator,
      '--data-dir',
      dataDir,
      '--https-port',
      hubPort,
      '--mqtt-port',
      mqttPort,
      '--amqp-port',
      amqpPort,
      '--amqps-port',
      amqpsPort,
      // What a hub needs for Twinscope's live view: twin changes, lifecycle and connection
      // state events routed to the built-in endpoint, and a consumer group of its own there.
      '--route',
      'TwinChangeEvents',
      '--route',
      'DeviceLifecycleEvents',
      '--route',
      'DeviceConnectionStateEvents',
      '--consumer-group',
      'twinscope',
      '--seed',
      'demo',
      ...(throttle ? ['--throttle', throttle] : []),
    ],
    {},
    /Press Ctrl\+C/,
  );
  await start(
    'modules',
    [
      'packages/module-simulator/bin/module-simulator.mjs',
      '--fleet',
      '--connection-file',
      join(dataDir, 'connection.json'),
      // One device uploads a file through the hub's file upload, so its page lists one.
      '--boot-report',
      'berlin-b1-gateway-01',
      // One device provisions itself through the demo's enrollment group (the emulator's DPS).
      '--provision',
      'berlin-b2-sensor-21',
      '--enrollment-group',
      'demo-sensors',
      // A Plug and Play thermostat and temperature controller (their models in
      // packages/module-simulator/models).
      '--pnp-demo',
      '--quiet',
    ],
    {},
    /modules running/,
  );
  // The demo's IoT Edge device, its deployment run by the simulated Edge runtime.
  await start(
    'edge',
    [
      'packages/module-simulator/bin/module-simulator.mjs',
      '--edge-demo',
      '--connection-file',
      join(dataDir, 'connection.json'),
      '--quiet',
    ],
    {},
    /IoT Edge runtime running/,
  );
  let signInEnv = {};
  if (signIn) {
    const certs = join(dataDir, 'certs');
    await start(
      'dev-idp',
      [
        'packages/dev-idp/bin/dev-idp.mjs',
        '--port',
        idpPort,
        '--tls-dir',
        certs,
        '--redirect-uri',
        `${publicUrl}/auth/callback`,
        '--post-logout-redirect-uri',
        `${publicUrl}/`,
      ],
      {},
      /identity provider ready/,
    );
    signInEnv = {
      TWINSCOPE_AUTH_MODE: 'entra',
      TWINSCOPE_PUBLIC_URL: publicUrl,
      TWINSCOPE_ENTRA_AUTHORITY: `https://127.0.0.1:${idpPort}/`,
      TWINSCOPE_ENTRA_PROTOCOL: 'oidc',
      TWINSCOPE_ENTRA_KNOWN_AUTHORITIES: `127.0.0.1:${idpPort}`,
      TWINSCOPE_ENTRA_CLIENT_ID: 'twinscope-dev',
      TWINSCOPE_ENTRA_CLIENT_SECRET: 'twinscope-dev-secret',
      TWINSCOPE_ENTRA_CA_FILE: join(certs, 'ca.pem'),
      TWINSCOPE_SESSION_SECRET: randomBytes(32).toString('base64url'),
      TWINSCOPE_AUTH_RATE_LIMIT: process.env.TWINSCOPE_AUTH_RATE_LIMIT ?? '300',
    };
  }
  await start(
    'bff',
    dev
      ? ['node_modules/tsx/dist/cli.mjs', 'watch', 'apps/bff/src/main.ts']
      : ['--enable-source-maps', built.bff],
    {
      ...signInEnv,
      // An audit trail from before the database (JSON lines) is imported once.
      TWINSCOPE_AUDIT_FILE: process.env.TWINSCOPE_AUDIT_FILE ?? join(dataDir, 'audit.jsonl'),
      // The team's state: the embedded PostgreSQL in the data folder, unless
      // TWINSCOPE_DATABASE_URL is set.
      TWINSCOPE_DATABASE_DIR: process.env.TWINSCOPE_DATABASE_DIR ?? join(dataDir, 'db'),
      TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
      TWINSCOPE_STATIC_DIR: staticDir,
      TWINSCOPE_PORT: port,
      // Without a quota the demo polls briskly; with one, polling keeps to its share of it
      // (against Azure the defaults, 5 s and a quarter of the hub's queries, respect it).
      TWINSCOPE_POLL_INTERVAL_MS: process.env.TWINSCOPE_POLL_INTERVAL_MS ?? '500',
      ...(throttle
        ? {}
        : {
            TWINSCOPE_POLL_QUERIES_PER_MINUTE:
              process.env.TWINSCOPE_POLL_QUERIES_PER_MINUTE ?? '6000',
          }),
    },
    /Twinscope BFF is listening/,
  );
  if (dev)
    await start(
      'vite',
      ['apps/web/node_modules/vite/bin/vite.js', 'apps/web', '--host', '127.0.0.1'],
      {},
      /Local:/,
    );
} catch (error) {
  console.error(`twinscope: ${error.message}`);
  stopAll(1);
  await new Promise(() => undefined);
}

console.log(`
  Twinscope is running: ${publicUrl}${
    dev
      ? `
  Development       the console with reload on http://127.0.0.1:5173 (Vite; without sign-in),
                    the BFF restarting as apps/bff/src changes`
      : ''
  }
${
  signIn
    ? `
  Sign-in           dev identity provider https://127.0.0.1:${idpPort} (a stand-in for Entra ID):
                    sign in as Riley Reader, Oscar Operator or Ada Admin to try each role;
                    its certificate comes from the emulator's CA (${join(dataDir, 'certs', 'ca.pem')}):
                    trust that CA, or accept the browser's warning once
`
    : `
  Sign-in           none: one local operator (Admin) on loopback; \`npm start -- --sign-in\`
                    tries Entra-style sign-in with reader, operator and admin demo users
`
}
  IoT Hub emulator  https://${hubHost()}:${hubPort}, devices on mqtts://${hubHost()}:${mqttPort} and amqps://${hubHost()}:${amqpsPort},
                    events (Event Hubs-compatible) on amqp://${hubHost()}:${amqpPort} (state in ${dataDir})
  Hub quota         ${throttle ? `${throttle}: the emulator answers 429 beyond its throttles and Twinscope keeps to them` : 'none: the emulator runs without --throttle (TWINSCOPE_EMULATOR_THROTTLE=S1 npm start tries one S1 unit)'}
  Demo fleet        16 devices; their modules run the how-to's module app (acknowledging desired
                    changes in reported); connection details in ${join(dataDir, 'connection.json')}
  Plug and Play     oslo-lab-thermostat-15 and oslo-lab-controller-16 announce their models
                    (dtmi:twinscope:demo:…, in packages/module-simulator/models) and follow the
                    Plug and Play conventions: ${publicUrl}/devices/oslo-lab-controller-16
  Provisioning      berlin-b2-sensor-21 provisioned itself through the emulator's Device Provisioning
                    Service (enrollment group demo-sensors): ${publicUrl}/devices/berlin-b2-sensor-21
  IoT Edge          lyon-edge-gateway-01 runs a simulated Edge runtime with three modules, one of
                    them (modbus-decoder) crash-looping: ${publicUrl}/devices/lyon-edge-gateway-01#edge
  File upload       devices upload to Azurite beside the emulator; berlin-b1-gateway-01 uploads
                    diagnostics/boot-report.json as it starts: ${publicUrl}/devices/berlin-b1-gateway-01#files

  Press Ctrl+C to stop.
`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(0));
