#!/usr/bin/env node
// Starts the whole product on this machine: the IoT Hub emulator with a demo fleet, then
// the BFF serving the built console, and prints the URL. Ctrl+C stops both.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = process.env.TWINSCOPE_EMULATOR_DATA_DIR ?? join(root, '.emulator-data');
const port = process.env.TWINSCOPE_PORT ?? '3000';
const hubPort = process.env.TWINSCOPE_EMULATOR_PORT ?? '8443';
const mqttPort = process.env.TWINSCOPE_EMULATOR_MQTT_PORT ?? '8883';
const staticDir = join(root, 'apps/web/dist');
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
      if (process.env.TWINSCOPE_VERBOSE) process.stdout.write(`[${name}] ${text}`);
      seen += text;
      if (ready.test(seen)) {
        seen = '';
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => process.stderr.write(`[${name}] ${chunk}`));
    child.on('exit', (code) => {
      reject(new Error(`${name} exited with code ${code}`));
      stopAll(code ?? 1);
    });
  });
}

if (!existsSync(join(staticDir, 'index.html'))) {
  console.error('twinscope: the console is not built; run `npm start` (it builds first).');
  process.exit(1);
}

try {
  await start(
    'emulator',
    [
      'packages/hub-emulator/bin/hub-emulator.mjs',
      '--data-dir',
      dataDir,
      '--https-port',
      hubPort,
      '--mqtt-port',
      mqttPort,
      '--seed',
      'demo',
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
      '--quiet',
    ],
    {},
    /modules running/,
  );
  await start(
    'bff',
    ['scripts/run-ts.mjs', 'apps/bff/src/main.ts'],
    {
      TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
      TWINSCOPE_STATIC_DIR: staticDir,
      TWINSCOPE_PORT: port,
      // The emulator has no query quota unless asked, so the demo polls briskly; against
      // Azure the defaults (5 s, 10 queries a minute) respect an S1 unit.
      TWINSCOPE_POLL_INTERVAL_MS: process.env.TWINSCOPE_POLL_INTERVAL_MS ?? '500',
      TWINSCOPE_POLL_QUERIES_PER_MINUTE: process.env.TWINSCOPE_POLL_QUERIES_PER_MINUTE ?? '6000',
    },
    /Twinscope BFF is listening/,
  );
} catch (error) {
  console.error(`twinscope: ${error.message}`);
  stopAll(1);
  await new Promise(() => undefined);
}

console.log(`
  Twinscope is running: http://127.0.0.1:${port}

  IoT Hub emulator  https://localhost:${hubPort}, devices on mqtts://localhost:${mqttPort} (state in ${dataDir})
  Demo fleet        12 devices; their modules run the how-to's module app (acknowledging desired
                    changes in reported); connection details in ${join(dataDir, 'connection.json')}

  Press Ctrl+C to stop.
`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(0));
