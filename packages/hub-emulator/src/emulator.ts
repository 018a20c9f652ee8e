// The composition root: it builds the hub in the order it must start (options, TLS, the
// service graph, then each listener), writes connection.json, and closes it in the order it
// must stop. Each step lives in compose/; the order, which matters, reads here in one place.
import { join } from 'node:path';
import { describeQuota } from '@twinscope/hub-quotas';
import type { Policy } from './auth/sas.ts';
import type { CloudToDevice } from './c2d/cloud-to-device.ts';
import { loadOrCreateTls, type TlsMaterial } from './certs.ts';
import { startEventHubs, startHubAmqp } from './compose/amqp-listeners.ts';
import {
  connectionString,
  eventHubsConnectionString,
  identityConnectionStrings,
  writeConnectionFile,
} from './compose/connection-details.ts';
import { checkTrustedCas, hubHome, type EmulatorOptions } from './compose/options.ts';
import { closeServices, createServices } from './compose/services.ts';
import { startStorage, type RunningStorage } from './compose/storage.ts';
import { startTlsListeners } from './compose/tls-listeners.ts';
import type { EventStore } from './events/event-store.ts';
import type { ChangeLog } from './store/change-log.ts';
import type { Provisioning } from './provisioning/provisioning.ts';
import type { Registry } from './store/registry.ts';
import type { FileUploads } from './uploads/file-uploads.ts';
import type { ServedOperations } from './http/throttle.ts';

export { connectionString, type EmulatorOptions };

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
  /** File upload: SAS URIs, completions and the file notification queue. */
  fileUploads: FileUploads;
  /** Service operations served per throttle class (what the hub would count against its quotas). */
  served: ServedOperations;
  /**
   * The Device Provisioning Service beside the hub, on its listeners: the id scope, the
   * service connection string (HostName carries the HTTPS port unless it is 443), and the
   * host a device SDK is given.
   */
  provisioning: {
    idScope: string;
    serviceConnectionString: string;
    deviceEndpoint: string;
    service: Provisioning;
  };
  /** The storage devices upload to, when the hub has one. */
  storage?: { connectionString: string; container: string; kind: 'azurite' | 'account' };
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

/** Starts the emulator's HTTPS service API over a registry in memory or in a data dir. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { hostName, dataDir } = hubHome(options);
  const tls = await loadOrCreateTls(hostName, dataDir ? join(dataDir, 'certs') : undefined);
  const storage = await startStorage(options, hostName, tls, dataDir);
  try {
    return await startHub(options, hostName, dataDir, tls, storage);
  } catch (error) {
    // Azurite would outlive a start that failed after it (a port in use, a bad CA).
    await storage?.close();
    throw error;
  }
}

async function startHub(
  options: EmulatorOptions,
  hostName: string,
  dataDir: string | undefined,
  tls: TlsMaterial,
  storage: RunningStorage | undefined,
): Promise<RunningEmulator> {
  const services = createServices(options, hostName, dataDir, storage?.store, tls.caCert);
  const { policies, registry, changes, c2d, events, quota, fileUploads } = services;

  // A step that cannot start (a bad CA, a port taken) leaves nothing of the others running:
  // no listener, no timer, no open journal.
  const abandon = async (error: unknown, started: { close(): Promise<void> }[]) => {
    for (const step of started.reverse()) await step.close().catch(() => undefined);
    closeServices(services);
    throw error;
  };
  let trustedCas: string[];
  try {
    trustedCas = checkTrustedCas(options.trustedCaCerts ?? []);
  } catch (error) {
    return abandon(error, []);
  }
  const listeners = await startTlsListeners(options, hostName, tls, trustedCas, services).catch(
    (error: unknown) => abandon(error, []),
  );
  const hubAmqp = await startHubAmqp(options, hostName, tls, trustedCas, services).catch(
    (error: unknown) => abandon(error, [listeners]),
  );
  listeners.acceptAmqpWebSockets((socket, certificate) =>
    hubAmqp.acceptWebSocket(socket, certificate),
  );
  const eventHubs = await startEventHubs(options, tls, services).catch((error: unknown) =>
    abandon(error, [listeners, hubAmqp]),
  );
  const eventsConnectionString = eventHubsConnectionString(
    hostName,
    eventHubs.amqpPort,
    events.name,
    policies,
  );

  const owner = policies.find((p) => p.keyName === 'iothubowner')!;
  const serviceConnectionString = connectionString(hostName, listeners.httpsPort, owner);
  const provisioning = {
    idScope: services.provisioning.idScope,
    serviceConnectionString: connectionString(
      hostName,
      listeners.httpsPort,
      services.provisioning.policies[0]!,
    ),
    deviceEndpoint: hostName,
  };
  // A data dir always has the CA on disk (certs/ca.pem), so clients can trust it.
  const connectionFile =
    dataDir && tls.caCertFile
      ? writeConnectionFile(dataDir, {
          hostName,
          httpsPort: listeners.httpsPort,
          mqttPort: listeners.mqttPort,
          amqpsPort: hubAmqp.port,
          serviceConnectionString,
          caCertFile: tls.caCertFile,
          // What a client may spend: the tier the hub throttles like, or null (no throttling).
          throttle: quota === undefined ? null : 'rates' in quota ? describeQuota(quota) : 'custom',
          eventHubs: {
            connectionString: eventsConnectionString,
            name: events.name,
            amqpPort: eventHubs.amqpPort,
            partitionCount: events.store.partitionCount,
            consumerGroups: events.consumerGroups,
          },
          storage: storage
            ? {
                connectionString: storage.connectionString,
                container: fileUploads.settings.container,
              }
            : null,
          provisioning,
        })
      : undefined;

  return {
    hostName,
    httpsPort: listeners.httpsPort,
    mqttPort: listeners.mqttPort,
    amqpsPort: hubAmqp.port,
    identityConnectionString: identityConnectionStrings(registry, hostName, {
      mqtt: listeners.mqttPort,
      amqps: hubAmqp.port,
    }),
    serviceConnectionString,
    policies,
    tls,
    registry,
    changes,
    c2d,
    fileUploads,
    served: services.served,
    ...(storage
      ? {
          storage: {
            connectionString: storage.connectionString,
            container: fileUploads.settings.container,
            kind: storage.kind,
          },
        }
      : {}),
    provisioning: { ...provisioning, service: services.provisioning },
    seeded: services.seeded,
    ...(connectionFile ? { connectionFile } : {}),
    events: {
      amqpPort: eventHubs.amqpPort,
      ...(eventHubs.tlsPort !== undefined ? { tlsPort: eventHubs.tlsPort } : {}),
      name: events.name,
      partitionCount: events.store.partitionCount,
      consumerGroups: events.consumerGroups,
      connectionString: eventsConnectionString,
      store: events.store,
      stopEndpoint: () => eventHubs.stop(),
      startEndpoint: () => eventHubs.start(),
    },
    async close() {
      events.unroute();
      // The Event Hubs endpoint first: @azure/event-hubs can wait forever to close a
      // subscription whose connection dropped while the emulator was busy closing others.
      await eventHubs.close();
      await hubAmqp.close();
      await listeners.close();
      closeServices(services);
      await storage?.close();
    },
  };
}
