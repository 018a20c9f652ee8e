import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runFleet } from './fleet.ts';
import { runModule, type RunningModule } from './module-app.ts';

const usage = `module-simulator: the module app from IoT Hub's module-twin how-to

One module (works against Azure IoT Hub too):
  module-simulator --connection-string "HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…" [--ca ca.pem]

Every module of the emulator's fleet (or those a query selects), in one process:
  module-simulator --fleet --connection-file .emulator-data/connection.json [--query "SELECT * FROM devices.modules WHERE …"]`;

function fail(message: string): never {
  console.error(`module-simulator: ${message}\n\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      'connection-string': { type: 'string' },
      ca: { type: 'string' },
      fleet: { type: 'boolean' },
      'connection-file': { type: 'string' },
      query: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const log = values.quiet
  ? () => undefined
  : (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const readCa = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);

let running: RunningModule[];
if (values.fleet) {
  if (!values['connection-file'])
    fail('--fleet needs --connection-file (the emulator connection.json)');
  const connection = JSON.parse(readFileSync(values['connection-file'], 'utf8')) as {
    hostName: string;
    mqttPort: number;
    serviceConnectionString: string;
    caCertFile: string;
  };
  const ca = readCa(values.ca ?? connection.caCertFile);
  running = await runFleet({
    serviceConnectionString: connection.serviceConnectionString,
    mqttHost:
      connection.mqttPort === 8883
        ? connection.hostName
        : `${connection.hostName}:${connection.mqttPort}`,
    ...(ca ? { ca } : {}),
    ...(values.query ? { query: values.query } : {}),
    log,
  });
  console.log(`module-simulator: ${running.length} modules running`);
} else {
  const connectionString = values['connection-string'];
  if (!connectionString || !/ModuleId=/.test(connectionString))
    fail('--connection-string must be a module connection string');
  const ca = readCa(values.ca);
  running = [await runModule(connectionString, { ...(ca ? { ca } : {}), log })];
  console.log('module-simulator: running');
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(running.map((module) => module.stop())).then(() => process.exit(0));
  });
}
