// Long on purpose: the composition root. It builds every layer (store, services, HTTPS, MQTT,
// AMQP, the Event Hubs-compatible endpoint), wires them in the order they must start, writes
// connection.json, and closes them in the order they must stop; each step is a few lines and
// reads best in sequence.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { keepPrivate, writePrivateFile } from './store/private-files.ts';
import { startAmqpEndpoint, type RunningAmqpEndpoint } from './events/amqp-endpoint.ts';
import { EventStore } from './events/event-store.ts';
import { routeChanges, type RouteSource } from './events/routing.ts';
import type { EntraAccess } from './auth/entra.ts';
import { createServer, type Server } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { WebSocket } from 'ws';
import { defaultPolicies, SasCache, type Policy } from './auth/sas.ts';
import { loadOrCreateTls, type TlsMaterial } from './certs.ts';
import {
  clientCertificateOf,
  clientCertificateRequest,
  type ClientCertificate,
} from './auth/x509.ts';
import { createServiceApi } from './http/server.ts';
import { serviceOperations } from './operations/index.ts';
import { webSocketUpgrade } from './http/websockets.ts';
import { Throttle, type ThrottleLimits } from './http/throttle.ts';
import { describeQuota, type HubQuota } from '@twinscope/hub-quotas';
import { DeviceGateway } from './mqtt/gateway.ts';
import { DeviceSessions } from './devices/device-sessions.ts';
import { startHubAmqpEndpoint } from './amqp/hub-endpoint.ts';
import { CloudToDevice } from './c2d/cloud-to-device.ts';
import { seedFleet } from './seed.ts';
import { ChangeLog } from './store/change-log.ts';
import { JournalPersistence, MemoryPersistence, type Persistence } from './store/persistence.ts';
import { Jobs } from './jobs/jobs.ts';
import { Configurations } from './configurations/configurations.ts';
import { Registry } from './store/registry.ts';
import type { ConnectionFile } from './connection-file.ts';

export interface EmulatorOptions {
  /** The hub's host name: in tokens, connection strings and the certificate. Default `localhost`. */
  hostName?: string;
  /** HTTPS port; 0 picks a free one. Default 8443. */
  httpsPort?: number;
  /** MQTT over TLS port for devices and modules; 0 picks a free one. Default 8883. */
  mqttPort?: number;
  /** AMQP over TLS port for devices, modules and the service; 0 (the default) picks a free one. The CLI uses 5671, the port the SDKs dial. */
  amqpsPort?: number;
  /**
   * CA certificates (PEM text) the hub trusts for CA-signed device certificates, as a hub's
   * verified CA certificates. Devices with self-signed certificates need none.
   */
  trustedCaCerts?: string[];
  /** Address to listen on. Default 127.0.0.1. */
  listen?: string;
  /** Where state, certificates and connection.json live. Required unless `inMemory`. */
  dataDir?: string;
  /** Keep nothing on disk (tests). */
  inMemory?: boolean;
  /** How long cloud-to-device feedback records wait to be batched (IoT Hub: up to 15 s). Default 1 s. */
  feedbackBatchMs?: number;
  /** fsync every write (survives power loss, not only a killed process). */
  fsync?: boolean;
  /** Seed an empty hub with the demo fleet or N devices. */
  seed?: 'demo' | number;
  /** IoT Hub-style throttling: a tier and units (`hubQuota('S1')`) or custom limits. Off by default. */
  throttle?: ThrottleLimits | HubQuota;
  /** Request log lines (never carry tokens or keys). */
  log?: (line: string) => void;
  /** Accept Entra ID bearer tokens from this issuer, with these data-plane role assignments. */
  entra?: EntraAccess;
  /** The Event Hubs-compatible endpoint's AMQP port; 0 picks a free one (the CLI uses 5672). */
  amqpPort?: number;
  /** Partitions of the built-in endpoint (IoT Hub: 2 to 128, default 4). */
  partitionCount?: number;
  /** How long the built-in endpoint keeps events. Default 24 hours. */
  retentionHours?: number;
  /** Routes to the built-in endpoint, like a hub's message routes. Default: device messages. */
  routes?: RouteSource[];
  /** Consumer groups on the built-in endpoint besides `$Default`. */
  consumerGroups?: string[];
  /**
   * The endpoint over AMQP with TLS too (amqps, the emulator's certificate), as Event Hubs
   * is reached by a namespace and an Entra credential; 0 picks a free port. Off by default.
   */
  eventHubsTlsPort?: number;
}

export interface RunningEmulator {
  hostName: string;
  httpsPort: number;
  mqttPort: number;
  amqpsPort: number;
  /**
   * The connection string a device or module app uses. HostName carries the transport's
   * port unless it is the one the SDKs dial (MQTT 8883, AMQP 5671).
   */
  identityConnectionString(
    deviceId: string,
    moduleId?: string,
    transport?: 'mqtt' | 'amqp',
  ): string;
  /** iothubowner connection string; HostName carries the port unless it is 443. */
  serviceConnectionString: string;
  policies: readonly Policy[];
  tls: TlsMaterial;
  registry: Registry;
  changes: ChangeLog;
  /** Cloud-to-device queues and feedback. */
  c2d: CloudToDevice;
  seeded: number;
  /** `<dataDir>/connection.json`, when there is a data dir. */
  connectionFile?: string;
  /** The built-in endpoint: AMQP port, name, and the connection string @azure/event-hubs takes. */
  events: {
    amqpPort: number;
    /** The same endpoint over TLS, when `eventHubsTlsPort` was asked for. */
    tlsPort?: number;
    name: string;
    partitionCount: number;
    consumerGroups: string[];
    connectionString: string;
    store: EventStore;
    /** Takes the AMQP endpoint down (connections dropped) and brings it back on its port. */
    stopEndpoint(): Promise<void>;
    startEndpoint(): Promise<void>;
  };
  close(): Promise<void>;
}

/** Each trusted CA must be a PEM certificate; a bad one stops the start with its position. */
function checkTrustedCas(pems: string[]): string[] {
  return pems.map((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new Error(`CA certificate ${index + 1} is not a PEM certificate.`);
    }
    return pem;
  });
}

function loadPolicies(dataDir: string | undefined): Policy[] {
  if (!dataDir) return defaultPolicies();
  const file = join(dataDir, 'policies.json');
  if (existsSync(file)) {
    keepPrivate(file);
    return JSON.parse(readFileSync(file, 'utf8')) as Policy[];
  }
  const policies = defaultPolicies();
  writePrivateFile(file, JSON.stringify(policies, null, 2));
  return policies;
}

export function connectionString(hostName: string, port: number, policy: Policy): string {
  const host = port === 443 ? hostName : `${hostName}:${port}`;
  return `HostName=${host};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}

/** Starts the emulator's HTTPS service API over a registry in memory or in a data dir. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const hostName = (options.hostName ?? 'localhost').toLowerCase();
  if (!options.inMemory && !options.dataDir)
    throw new Error('startEmulator needs a dataDir or inMemory: true');
  const dataDir = options.inMemory ? undefined : resolve(options.dataDir!);
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const tls = await loadOrCreateTls(hostName, dataDir ? join(dataDir, 'certs') : undefined);
  const policies = loadPolicies(dataDir);
  const persistence: Persistence = dataDir
    ? new JournalPersistence(join(dataDir, 'state'), {
        fsync: options.fsync ?? false,
        compactAfterBytes: 256 * 1024 * 1024,
      })
    : new MemoryPersistence();
  const changes = new ChangeLog();
  const registry = new Registry(persistence, changes);
  if (persistence instanceof JournalPersistence && persistence.shouldCompact) registry.compact();
  const seeded = options.seed === undefined ? 0 : seedFleet(registry, options.seed);

  // The built-in endpoint: routed changes, retained per partition, read over AMQP.
  const eventHubName = hostName.split('.')[0]!;
  const store = new EventStore({
    partitionCount: options.partitionCount ?? 4,
    retentionMs: (options.retentionHours ?? 24) * 3_600_000,
    ...(dataDir ? { directory: join(dataDir, 'events'), fsync: options.fsync ?? false } : {}),
  });
  const unroute = routeChanges(
    changes,
    store,
    new Set(options.routes ?? ['DeviceMessages']),
    eventHubName,
  );
  const consumerGroups = ['$Default', ...(options.consumerGroups ?? [])];

  const quota = options.throttle;
  const throttle = quota === undefined ? undefined : new Throttle(quota);
  let port = options.httpsPort ?? 8443;
  const hostNames = new Set([hostName]);
  const sasContext = {
    hostNames,
    policies,
    identityKeys: (deviceId: string, moduleId?: string) =>
      registry.find(deviceId, moduleId)?.authentication.symmetricKey,
    now: Date.now,
    cache: new SasCache(),
  };
  const sessions = new DeviceSessions(registry);
  const c2d = new CloudToDevice(registry, changes, {
    ...(dataDir ? { file: join(dataDir, 'state', 'c2d.jsonl') } : {}),
    ...(options.feedbackBatchMs !== undefined ? { feedbackBatchMs: options.feedbackBatchMs } : {}),
  });
  const gateway = new DeviceGateway({
    registry,
    sessions,
    c2d,
    sas: sasContext,
    ...(options.log ? { log: options.log } : {}),
  });
  const trustedCas = checkTrustedCas(options.trustedCaCerts ?? []);
  // Every device-facing TLS listener asks for a client certificate (X.509 devices) without
  // requiring one (SAS clients send none).
  const clientCertificates = clientCertificateRequest(trustedCas);
  const mqttServer = createTlsServer(
    // No Nagle delay, as for AMQP: MQTT's PUBACKs and deliveries go out at once.
    { cert: tls.cert, key: tls.key, noDelay: true, ...clientCertificates },
    (socket) => gateway.accept(socket, clientCertificateOf(socket)),
  );
  mqttServer.on('tlsClientError', () => undefined);
  /** Every accepted TCP socket of both TLS servers, so close() can end them all. */
  const rawSockets = new Set<Socket>();
  mqttServer.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    mqttServer.once('error', reject);
    mqttServer.listen(options.mqttPort ?? 8883, options.listen ?? '127.0.0.1', () =>
      resolveListen(),
    );
  });
  const mqttPort = (mqttServer.address() as AddressInfo).port;
  hostNames.add(`${hostName}:${mqttPort}`);
  // Jobs v2 run in the background at the tier's pace; their state survives restarts.
  const jobs = new Jobs(registry, sessions, {
    ...(dataDir ? { file: join(dataDir, 'state', 'jobs.json') } : {}),
    ...(quota && 'rates' in quota ? { quota } : {}),
  });
  // Automatic configurations: applied to the twins they target as twins change.
  const configurations = new Configurations(registry, {
    ...(dataDir ? { file: join(dataDir, 'state', 'configurations.json') } : {}),
    ...(quota && 'rates' in quota ? { quota } : {}),
  });
  const api = createServiceApi({
    operations: serviceOperations,
    registry,
    devices: sessions,
    cloudToDevice: c2d,
    jobs,
    configurations,
    sas: sasContext,
    ...(throttle ? { throttle } : {}),
    ...(options.entra ? { entra: options.entra } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const server: Server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      keepAliveTimeout: 60_000,
      noDelay: true,
      ...clientCertificates,
    },
    (req, res) => {
      void api(req, res);
    },
  );
  server.on('clientError', (_error, socket) => socket.destroy());
  // MQTT and AMQP over WebSockets share the HTTPS port, as on IoT Hub (the SDKs dial 443).
  let acceptAmqpWebSocket: (socket: WebSocket, certificate?: ClientCertificate) => void = (
    socket,
  ) => socket.terminate();
  server.on(
    'upgrade',
    webSocketUpgrade({
      mqtt: (stream, certificate) => gateway.accept(stream, certificate),
      amqp: (socket, certificate) => acceptAmqpWebSocket(socket, certificate),
      ...(options.log ? { log: options.log } : {}),
    }),
  );
  // As for MQTT: a socket still in its TLS handshake is no HTTP connection yet, so
  // closeAllConnections() misses it and close() would wait for it forever.
  server.on('connection', (socket: Socket) => {
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, options.listen ?? '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  // Tokens may name the host with its port, as the SDKs do when HostName carries one.
  hostNames.add(`${hostName}:${port}`);

  const hubAmqp = await startHubAmqpEndpoint({
    registry,
    sessions,
    c2d,
    hubName: hostName.split('.')[0]!,
    sas: sasContext,
    port: options.amqpsPort ?? 0,
    listen: options.listen ?? '127.0.0.1',
    tls: { cert: tls.cert, key: tls.key },
    trustedCas,
    ...(options.log ? { log: options.log } : {}),
  });
  hostNames.add(`${hostName}:${hubAmqp.port}`);
  acceptAmqpWebSocket = (socket, certificate) => hubAmqp.acceptWebSocket(socket, certificate);

  const endpointOptions = {
    store,
    entityName: eventHubName,
    consumerGroups,
    policies,
    port: options.amqpPort ?? 0,
    listen: options.listen ?? '127.0.0.1',
    ...(options.entra ? { entra: options.entra } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  let amqp: RunningAmqpEndpoint | undefined = await startAmqpEndpoint(endpointOptions);
  const amqpPort = amqp.port;
  const eventHubsTls =
    options.eventHubsTlsPort === undefined
      ? undefined
      : await startAmqpEndpoint({
          ...endpointOptions,
          port: options.eventHubsTlsPort,
          tls: { cert: tls.cert, key: tls.key },
        });
  const servicePolicy = policies.find((p) => p.keyName === 'service') ?? policies[0]!;
  const eventsConnectionString = `Endpoint=sb://${hostName}:${amqpPort}/;SharedAccessKeyName=${servicePolicy.keyName};SharedAccessKey=${servicePolicy.primaryKey};EntityPath=${eventHubName};UseDevelopmentEmulator=true`;

  const owner = policies.find((p) => p.keyName === 'iothubowner')!;
  const serviceConnectionString = connectionString(hostName, port, owner);
  let connectionFile: string | undefined;
  // A data dir always has the CA on disk (certs/ca.pem), so clients can trust it.
  if (dataDir && tls.caCertFile) {
    connectionFile = join(dataDir, 'connection.json');
    const details: ConnectionFile = {
      hostName,
      httpsPort: port,
      mqttPort,
      amqpsPort: hubAmqp.port,
      serviceConnectionString,
      caCertFile: tls.caCertFile,
      // What a client may spend: the tier the hub throttles like, or null (no throttling).
      throttle: quota === undefined ? null : 'rates' in quota ? describeQuota(quota) : 'custom',
      eventHubs: {
        connectionString: eventsConnectionString,
        name: eventHubName,
        amqpPort,
        partitionCount: store.partitionCount,
        consumerGroups,
      },
    };
    writePrivateFile(connectionFile, `${JSON.stringify(details, null, 2)}\n`);
  }

  const identityConnectionString = (
    deviceId: string,
    moduleId?: string,
    transport: 'mqtt' | 'amqp' = 'mqtt',
  ) => {
    const key = registry.find(deviceId, moduleId)?.authentication.symmetricKey.primaryKey;
    if (!key) throw new Error(`${moduleId ?? deviceId} does not exist or has no symmetric key`);
    const [transportPort, sdkPort] = transport === 'amqp' ? [hubAmqp.port, 5671] : [mqttPort, 8883];
    const host = transportPort === sdkPort ? hostName : `${hostName}:${transportPort}`;
    return `HostName=${host};DeviceId=${deviceId};${moduleId ? `ModuleId=${moduleId};` : ''}SharedAccessKey=${key}`;
  };

  return {
    hostName,
    httpsPort: port,
    mqttPort,
    amqpsPort: hubAmqp.port,
    identityConnectionString,
    serviceConnectionString,
    policies,
    tls,
    registry,
    changes,
    c2d,
    seeded,
    ...(connectionFile ? { connectionFile } : {}),
    events: {
      amqpPort,
      ...(eventHubsTls ? { tlsPort: eventHubsTls.port } : {}),
      name: eventHubName,
      partitionCount: store.partitionCount,
      consumerGroups,
      connectionString: eventsConnectionString,
      store,
      // An outage of the endpoint alone (routing carries on, events are kept).
      async stopEndpoint() {
        await amqp?.close();
        amqp = undefined;
      },
      async startEndpoint() {
        amqp ??= await startAmqpEndpoint({ ...endpointOptions, port: amqpPort });
      },
    },
    async close() {
      unroute();
      // The Event Hubs endpoint first: @azure/event-hubs can wait forever to close a
      // subscription whose connection dropped while the emulator was busy closing others.
      await amqp?.close();
      await eventHubsTls?.close();
      await hubAmqp.close();
      jobs.close();
      configurations.close();
      c2d.close();
      store.close();
      gateway.close();
      const closed = new Promise<void>((done) => mqttServer.close(() => done()));
      // Sockets still in their TLS handshake never reach the gateway; end them too.
      for (const socket of rawSockets) socket.destroy();
      await closed;
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
        for (const socket of rawSockets) socket.destroy();
      });
      registry.close();
    },
  };
}
