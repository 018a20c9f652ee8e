import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readConnectionFile, type ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { uploadBootReportFor } from './boot-report.ts';
import { ensureDemoEdgeDevice } from './edge-demo.ts';
import { ensureDemoPnpDevices, runPnpDevice } from './pnp-device.ts';
import { runEdgeRuntime } from './edge-runtime.ts';
import { runFleet } from './fleet.ts';
import { provisionDevice } from './provisioned-device.ts';
import {
  DEVICE_TRANSPORTS,
  runDevice,
  runModule,
  type RunningModule,
  type Transport,
} from './module-app.ts';

const usage = `module-simulator: the module app from IoT Hub's module-twin how-to

One module (works against Azure IoT Hub too):
  module-simulator --connection-string "HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…" [--ca ca.pem]

One device (a device connection string: twin, methods, telemetry and cloud-to-device):
  module-simulator --connection-string "HostName=…;DeviceId=…;SharedAccessKey=…" [--ca ca.pem]

A simulated IoT Edge runtime (an IoT Edge device's connection string): it runs the modules
its deployment names, each as this module app, and answers $edgeAgent's direct methods:
  module-simulator --edge --connection-string "HostName=…;DeviceId=…;SharedAccessKey=…" [--connection-file …]
The demo's IoT Edge device (created with three modules, one crash-looping, if missing) and its runtime:
  module-simulator --edge-demo --connection-file .emulator-data/connection.json

A device that provisions itself through an enrollment group of the emulator's Device
Provisioning Service (its key derived from the group's), then runs as a device:
  module-simulator --provision <registrationId> --enrollment-group <groupId> --connection-file .emulator-data/connection.json
  (with --fleet too: one more device in the fleet's process)

The demo's Plug and Play devices (a thermostat, and a temperature controller with two
thermostat components; created if missing; their models in this package's models/ folder):
  module-simulator --fleet --pnp-demo --connection-file .emulator-data/connection.json

Every module of the emulator's fleet (or those a query selects), in one process:
  module-simulator --fleet --connection-file .emulator-data/connection.json [--query "SELECT * FROM devices.modules WHERE …"]
  --boot-report <deviceId>              with --fleet: that device uploads
                                        diagnostics/boot-report.json once, through the
                                        hub's file upload, as the fleet starts

  --transport amqp|mqtt|amqpws|mqttws   the SDK transport (default amqp, as the how-to's
                                        ModuleClient; a fleet takes turns over all four);
                                        a device may also use http
  --telemetry-interval <seconds>        send telemetry this often until the twin's desired
                                        telemetryInterval says otherwise

Every app answers the direct methods ping, reboot ({"delaySeconds": 3}: reconnects after
the delay) and fail ({"status": 500}: answers that status). A device completes the
cloud-to-device messages it receives, and rejects those whose "reject" property is "true"
where the transport can (AMQP, HTTPS).
  --connection-file …                   with --connection-string too: the emulator's ports
                                        per protocol come from it (not from HostName)`;

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
      edge: { type: 'boolean' },
      'edge-demo': { type: 'boolean' },
      'pnp-demo': { type: 'boolean' },
      'connection-file': { type: 'string' },
      query: { type: 'string' },
      transport: { type: 'string' },
      'telemetry-interval': { type: 'string' },
      'boot-report': { type: 'string' },
      provision: { type: 'string' },
      'enrollment-group': { type: 'string' },
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
const transportText = values.transport;
if (
  transportText !== undefined &&
  !(DEVICE_TRANSPORTS as readonly string[]).includes(transportText)
)
  fail(`--transport takes ${DEVICE_TRANSPORTS.join(', ')}`);
const transport = transportText as Transport | undefined;
const intervalText = values['telemetry-interval'];
const telemetryIntervalSeconds = intervalText === undefined ? undefined : Number(intervalText);
if (
  telemetryIntervalSeconds !== undefined &&
  !(Number.isFinite(telemetryIntervalSeconds) && telemetryIntervalSeconds > 0)
)
  fail('--telemetry-interval takes a number of seconds above 0');
if (values['boot-report'] !== undefined && !values.fleet)
  fail('--boot-report goes with --fleet (one device of the fleet uploads it)');
const provision = values.provision;
const enrollmentGroup = values['enrollment-group'];
if ((provision === undefined) !== (enrollmentGroup === undefined))
  fail('--provision and --enrollment-group go together');
if (values['pnp-demo'] && !values.fleet) fail('--pnp-demo runs with --fleet');
function connectionFileAt(path: string): ConnectionFile {
  try {
    return readConnectionFile(path);
  } catch (error) {
    fail(`--connection-file: ${(error as Error).message}`);
  }
}
const connectionFile = values['connection-file']
  ? connectionFileAt(values['connection-file'])
  : undefined;
const ports = connectionFile && {
  mqtt: connectionFile.mqttPort,
  https: connectionFile.httpsPort,
  amqp: connectionFile.amqpsPort,
};

/** `--provision`: the device registers through its group, then runs as a device. */
async function provisioned(file: ConnectionFile, ca: string | undefined): Promise<RunningModule> {
  const registrationId = provision!;
  try {
    const device = await provisionDevice({
      connection: file,
      registrationId,
      groupId: enrollmentGroup!,
      ...(ca ? { ca } : {}),
    });
    console.log(
      `module-simulator: ${registrationId} provisioned itself through enrollment group ${enrollmentGroup}: device ${device.deviceId} on ${device.assignedHub}`,
    );
    return await runDevice(device.connectionString, {
      ...(ca ? { ca } : {}),
      ...(ports ? { ports } : {}),
      transport: 'mqtt',
      log,
    });
  } catch (error) {
    console.error(
      `module-simulator: ${registrationId} could not provision itself: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
}

let running: RunningModule[];
if (values.edge || values['edge-demo']) {
  if (transport === 'http') fail('the Edge runtime cannot use http');
  const ca = readCa(values.ca ?? connectionFile?.caCertFile);
  let connectionString = values['connection-string'];
  if (values['edge-demo']) {
    if (!connectionFile) fail('--edge-demo needs --connection-file (the emulator connection.json)');
    connectionString = await ensureDemoEdgeDevice(connectionFile.serviceConnectionString, ca);
  }
  if (!connectionString || /ModuleId=/.test(connectionString))
    fail('--edge needs --connection-string: the IoT Edge device connection string');
  try {
    const runtime = await runEdgeRuntime(connectionString, {
      ...(ca ? { ca } : {}),
      ...(ports ? { ports } : {}),
      ...(transport ? { transport: transport as Exclude<Transport, 'http'> } : {}),
      log,
    });
    running = [{ name: runtime.deviceId, stop: () => runtime.stop() }];
  } catch (error) {
    console.error(
      `module-simulator: the Edge runtime could not start: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
  console.log(`module-simulator: IoT Edge runtime running for ${running[0]!.name}`);
} else if (values.fleet) {
  if (!connectionFile || !ports)
    fail('--fleet needs --connection-file (the emulator connection.json)');
  if (transport === 'http') fail('modules cannot use http; a fleet is modules');
  const ca = readCa(values.ca ?? connectionFile.caCertFile);
  running = await runFleet({
    serviceConnectionString: connectionFile.serviceConnectionString,
    ports,
    ...(transport ? { transport } : {}),
    ...(ca ? { ca } : {}),
    ...(values.query ? { query: values.query } : {}),
    log,
  });
  if (provision) running.push(await provisioned(connectionFile, ca));
  if (values['pnp-demo'])
    for (const device of await ensureDemoPnpDevices(connectionFile.serviceConnectionString, ca))
      running.push(
        await runPnpDevice(device.connectionString, {
          kind: device.kind,
          ...(ca ? { ca } : {}),
          ports,
          log,
        }),
      );
  const reporter = values['boot-report'];
  if (reporter) {
    // Soft: a hub without storage (or a slow one) must not stop the fleet.
    try {
      const { blobName, bytes } = await uploadBootReportFor(
        connectionFile.serviceConnectionString,
        reporter,
        { ...(ca ? { ca } : {}), ports },
      );
      console.log(`module-simulator: ${reporter} uploaded ${blobName} (${bytes} bytes)`);
    } catch (error) {
      console.warn(
        `module-simulator: ${reporter} did not upload its boot report through the hub's file upload${connectionFile.storage ? '' : ' (connection.json says the hub has no storage)'}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  console.log(`module-simulator: ${running.length} modules running`);
} else if (provision) {
  if (!connectionFile) fail('--provision needs --connection-file (the emulator connection.json)');
  running = [await provisioned(connectionFile, readCa(values.ca ?? connectionFile.caCertFile))];
  console.log('module-simulator: device running');
} else {
  const connectionString = values['connection-string'];
  if (
    !connectionString ||
    !/HostName=[^;]+/.test(connectionString) ||
    !/DeviceId=[^;]+/.test(connectionString) ||
    !/SharedAccessKey=[^;]+/.test(connectionString)
  )
    fail('--connection-string must be a device or module connection string');
  const isModule = /ModuleId=/.test(connectionString);
  if (isModule && transport === 'http') fail('modules cannot use http');
  const ca = readCa(values.ca ?? connectionFile?.caCertFile);
  const run = isModule ? runModule : runDevice;
  running = [
    await run(connectionString, {
      ...(ca ? { ca } : {}),
      ...(ports ? { ports } : {}),
      ...(transport ? { transport } : {}),
      ...(telemetryIntervalSeconds ? { telemetryIntervalSeconds } : {}),
      log,
    }),
  ];
  console.log(`module-simulator: ${isModule ? 'module' : 'device'} running`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(running.map((module) => module.stop())).then(() => process.exit(0));
  });
}
