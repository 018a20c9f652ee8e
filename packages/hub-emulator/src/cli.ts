import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeQuota, parseHubTier } from '@twinscope/hub-quotas';
import { reachNotes, STANDARD_PORTS as STANDARD } from './compose/reach.ts';
import { startEmulator, type EmulatorOptions } from './emulator.ts';
import { READY_LINE } from './spawn.ts';

const usage = `hub-emulator: a local Azure IoT Hub

Options:
  --data-dir <dir>     where state, certificates and connection.json live (default .emulator-data)
  --in-memory          keep nothing on disk
  --host-name <name>   the hub's host name (default 127.0.0.1: it has the dot the C and Java
                       SDKs require, and needs no DNS)
  --https-port <port>  service API port (default 443, where the SDKs dial, else 8443)
  --mqtt-port <port>   MQTT over TLS port for devices and modules (default 8883, else a free one)
  --amqps-port <port>  AMQP over TLS port for devices, modules and the service (default 5671,
                       else a free one)
  --amqp-port <port>   Event Hubs-compatible endpoint, plain AMQP (default 5672)
  --partitions <n>     partitions of the built-in endpoint (default 4)
  --retention-hours <h> how long the built-in endpoint keeps events (default 24)
  --route <source>     route a source to the built-in endpoint: DeviceMessages (always on),
                       TwinChangeEvents, DeviceLifecycleEvents,
                       DeviceConnectionStateEvents; repeat for several
  --consumer-group <n> add a consumer group besides $Default; repeat for several
  --ca-cert <pem file> trust this CA for CA-signed X.509 device certificates (a hub's verified
                       CA certificate); repeat for several. Self-signed devices need none
  --listen <address>   address to listen on (default 127.0.0.1)
  --seed demo|<N>      seed an empty hub with the demo fleet or N devices
  --development-keys   every shared access policy gets the published development keys (see
                       the README), so a connection string can be written down; local use only
  --provisioning-policy <name>=<Right,Right…>
                       a provisioning service shared access policy besides
                       provisioningserviceowner (rights: EnrollmentRead, EnrollmentWrite,
                       RegistrationStatusRead, RegistrationStatusWrite, ServiceConfig,
                       DeviceConnect); repeat for several; its keys are in
                       state/provisioning.json
  --throttle <tier>    answer 429 beyond a tier's quotas: F1, S1, S2 or S3, x<units> for more
                       than one unit (S1x2); without it the hub has no quota
  --storage <where>    file upload storage: azurite (default: Microsoft's Storage emulator
                       beside the hub, over TLS with the hub's certificate), a storage
                       account's connection string, or none (uploads are refused);
                       HUB_EMULATOR_STORAGE says the same without putting a key in ps
  --storage-port <port> Azurite's blob port (default: a free one)
  --file-upload-container <name>
                       the container devices upload to (default fileupload)
  --file-upload-sas-ttl <s>
                       how long a device's upload SAS URI lasts (default 3600, at most 172800)
  --no-file-notifications
                       completed uploads make no file notification for the service
  --fsync              fsync every write (survives power loss, slower)
  --verbose            log every request
  --print-connection-string
                       print the iothubowner connection string in the banner (it is a key:
                       by default the banner only says where connection.json is)
  --help               show this text`;

function fail(message: string): never {
  console.error(`hub-emulator: ${message}\n\n${usage}`);
  process.exit(2);
}

function parseCommandLine(): EmulatorOptions & { printConnectionString: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        'in-memory': { type: 'boolean' },
        'host-name': { type: 'string' },
        'https-port': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'amqps-port': { type: 'string' },
        'amqp-port': { type: 'string' },
        partitions: { type: 'string' },
        'retention-hours': { type: 'string' },
        route: { type: 'string', multiple: true },
        'consumer-group': { type: 'string', multiple: true },
        'ca-cert': { type: 'string', multiple: true },
        listen: { type: 'string' },
        seed: { type: 'string' },
        'development-keys': { type: 'boolean' },
        'provisioning-policy': { type: 'string', multiple: true },
        throttle: { type: 'string' },
        storage: { type: 'string' },
        'storage-port': { type: 'string' },
        'file-upload-container': { type: 'string' },
        'file-upload-sas-ttl': { type: 'string' },
        'no-file-notifications': { type: 'boolean' },
        fsync: { type: 'boolean' },
        verbose: { type: 'boolean' },
        'print-connection-string': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const options: EmulatorOptions = values['in-memory']
    ? { inMemory: true }
    : { dataDir: values['data-dir'] ?? '.emulator-data' };
  if (values['host-name']) options.hostName = values['host-name'];
  if (values.listen) options.listen = values.listen;
  // The ports the SDKs dial, each falling back when it cannot be bound; a port given is kept.
  const port = (flag: 'https-port' | 'mqtt-port' | 'amqps-port', standard: number[]) => {
    const value = values[flag];
    if (value === undefined) return standard;
    const given = Number(value);
    if (!Number.isInteger(given) || given < 0 || given > 65535)
      fail(`--${flag} takes a port number`);
    return given;
  };
  options.httpsPort = port('https-port', [STANDARD.https, 8443]);
  options.mqttPort = port('mqtt-port', [STANDARD.mqtt, 0]);
  options.amqpsPort = port('amqps-port', [STANDARD.amqps, 0]);
  const amqpPort = Number(values['amqp-port'] ?? 5672);
  if (!Number.isInteger(amqpPort) || amqpPort < 0 || amqpPort > 65535)
    fail('--amqp-port takes a port number');
  options.amqpPort = amqpPort;
  if (values.partitions !== undefined) {
    const n = Number(values.partitions);
    if (!Number.isInteger(n) || n < 1 || n > 128) fail('--partitions takes 1 to 128');
    options.partitionCount = n;
  }
  if (values['retention-hours'] !== undefined) {
    const h = Number(values['retention-hours']);
    if (!(h > 0) || h > 24 * 7) fail('--retention-hours takes more than 0, at most 168 (7 days)');
    options.retentionHours = h;
  }
  const sources = [
    'DeviceMessages',
    'TwinChangeEvents',
    'DeviceLifecycleEvents',
    'DeviceConnectionStateEvents',
  ] as const;
  const routes = new Set<(typeof sources)[number]>(['DeviceMessages']);
  for (const route of values.route ?? []) {
    const source = sources.find((s) => s.toLowerCase() === route.toLowerCase());
    if (!source) fail(`--route takes ${sources.join(', ')}`);
    routes.add(source);
  }
  options.routes = [...routes];
  if (values['consumer-group']) options.consumerGroups = values['consumer-group'];
  if (values['development-keys']) options.developmentKeys = true;
  for (const text of values['provisioning-policy'] ?? []) {
    const [keyName, rights] = text.split('=');
    if (!keyName || !rights) fail(`--provisioning-policy ${text}: write <name>=<Right,Right…>`);
    (options.provisioningPolicies ??= []).push({
      keyName,
      rights: rights.split(',').map((r) => r.trim()),
    });
  }
  if (values.seed !== undefined) {
    if (values.seed === 'demo') options.seed = 'demo';
    else if (/^\d+$/.test(values.seed) && Number(values.seed) > 0)
      options.seed = Number(values.seed);
    else fail('--seed takes "demo" or a number of devices');
  }
  if (values.throttle !== undefined) {
    try {
      const quota = parseHubTier(values.throttle);
      if (quota) options.throttle = quota;
    } catch (error) {
      fail(`--throttle: ${(error as Error).message}`);
    }
  }
  const trusted: string[] = [];
  for (const file of values['ca-cert'] ?? []) {
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      fail(`--ca-cert ${file}: ${(error as Error).message}`);
    }
    try {
      new X509Certificate(pem);
    } catch {
      fail(`--ca-cert ${file} is not a PEM certificate`);
    }
    trusted.push(pem);
  }
  if (trusted.length > 0) options.trustedCaCerts = trusted;
  const storage = values.storage ?? process.env['HUB_EMULATOR_STORAGE'] ?? 'azurite';
  if (storage.toLowerCase() === 'azurite') options.storage = 'azurite';
  else if (storage.toLowerCase() !== 'none') {
    if (!/AccountName=/i.test(storage) || !/AccountKey=/i.test(storage))
      fail('--storage takes azurite, none, or a connection string with AccountName and AccountKey');
    options.storage = { connectionString: storage };
  }
  if (values['storage-port'] !== undefined) {
    const port = Number(values['storage-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      fail('--storage-port takes a port number');
    options.storagePort = port;
  }
  const fileUpload: NonNullable<EmulatorOptions['fileUpload']> = {};
  const container = values['file-upload-container'];
  if (container !== undefined) {
    // Azure's container names: 3 to 63 lowercase letters, digits and single hyphens.
    if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(container))
      fail('--file-upload-container takes 3 to 63 lowercase letters, digits and single hyphens');
    fileUpload.container = container;
  }
  if (values['file-upload-sas-ttl'] !== undefined) {
    const seconds = Number(values['file-upload-sas-ttl']);
    if (!Number.isInteger(seconds) || seconds < 60 || seconds > 172_800)
      fail('--file-upload-sas-ttl takes 60 to 172800 seconds (48 hours, as IoT Hub)');
    fileUpload.sasTtlSeconds = seconds;
  }
  if (values['no-file-notifications']) fileUpload.notifications = false;
  options.fileUpload = fileUpload;
  if (values.fsync) options.fsync = true;
  if (values.verbose) options.log = (line) => console.log(line);
  return { ...options, printConnectionString: values['print-connection-string'] === true };
}

const options = parseCommandLine();
const started = Date.now();
const emulator = await startEmulator(options).catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  const port = (error as { port?: number }).port;
  if (code === 'EADDRINUSE') fail(`port ${port ?? '(unknown)'} is already in use`);
  if (code === 'EACCES')
    fail(`no permission to listen on port ${port ?? '(unknown)'}; ports below 1024 need root`);
  throw error;
});
const stats = emulator.registry.statistics();
console.log(`Twinscope IoT Hub emulator is running (${Date.now() - started} ms)
  service API   https://${emulator.hostName}:${emulator.httpsPort}
  devices       mqtts://${emulator.hostName}:${emulator.mqttPort}, amqps://${emulator.hostName}:${emulator.amqpsPort}, wss://${emulator.hostName}:${emulator.httpsPort}/$iothub/websocket
  provisioning  id scope ${emulator.provisioning.idScope}: devices register at ${emulator.provisioning.deviceEndpoint} over HTTPS, MQTT and AMQP (the ports above); service API on the service port
  X.509         self-signed by thumbprint; CA-signed from ${options.trustedCaCerts ? `${options.trustedCaCerts.length} trusted CA(s)` : 'no CA (add --ca-cert <pem>)'}
  events        amqp://${emulator.hostName}:${emulator.events.amqpPort} (Event Hubs-compatible '${emulator.events.name}', ${emulator.events.partitionCount} partitions; routes ${options.routes?.join(', ')})
  storage       ${storageLine()}
  reach         ${reachNotes(emulator).join('\n                ')}
  quota         ${options.throttle && typeof options.throttle === 'object' && 'rates' in options.throttle ? `${describeQuota(options.throttle)} (429 beyond its throttles)` : 'none (add --throttle S1 to answer 429 like one S1 unit)'}
  fleet         ${stats.totalDeviceCount} devices, ${emulator.registry.totalModules} modules${emulator.seeded ? ` (seeded ${emulator.seeded} now)` : ''}
  CA            ${emulator.tls.caCertFile ?? '(in memory)'}
  connection    ${connectionLine()}
${READY_LINE}`);

/** Where uploads go, without the account key. */
function storageLine(): string {
  const storage = emulator.storage;
  if (!storage) return 'none: file uploads are refused (drop --storage none for Azurite)';
  const endpoint = /BlobEndpoint=([^;]+)/i.exec(storage.connectionString)?.[1];
  const where = storage.kind === 'azurite' ? `Azurite ${endpoint ?? ''}` : 'a storage account';
  const notifications = emulator.fileUploads.settings.notifications ? 'on' : 'off';
  return `${where} (container ${storage.container}; file notifications ${notifications})`;
}

/** Where the connection string is, not the key itself: banners end up in logs and screenshots. */
function connectionLine(): string {
  if (options.printConnectionString) return emulator.serviceConnectionString;
  if (emulator.connectionFile)
    return `${emulator.connectionFile} (service connection string and CA; owner-only)`;
  return 'not written in memory; add --print-connection-string to see it';
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void emulator.close().then(() => process.exit(0));
  });
}
