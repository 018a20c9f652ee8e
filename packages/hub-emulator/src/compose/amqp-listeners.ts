// The AMQP listeners: the hub's own (devices, modules and the service over amqps) and the
// Event Hubs-compatible endpoint, which can be taken down and brought back on its own.
import { startHubAmqpEndpoint } from '../amqp/hub-endpoint.ts';
import type { TlsMaterial } from '../certs.ts';
import { startAmqpEndpoint, type RunningAmqpEndpoint } from '../events/amqp-endpoint.ts';
import { listenAddress, portRefused, portsOf, type EmulatorOptions } from './options.ts';
import type { Services } from './services.ts';

/** The hub's AMQP endpoint, its `host:port` added to the names tokens may carry. */
export async function startHubAmqp(
  options: EmulatorOptions,
  hostName: string,
  tls: TlsMaterial,
  trustedCas: string[],
  services: Services,
) {
  const { registry, sessions, c2d, sas } = services;
  const ports = portsOf(options.amqpsPort, 0);
  const start = (port: number) =>
    startHubAmqpEndpoint({
      registry,
      sessions,
      c2d,
      fileNotifications: services.fileUploads.notifications,
      provisioning: services.provisioning,
      hubName: hostName.split('.')[0]!,
      sas,
      port,
      listen: listenAddress(options),
      tls: { cert: tls.cert, key: tls.key },
      trustedCas,
      ...(options.log ? { log: options.log } : {}),
    });
  // The first port of the list that binds (the CLI: 5671, where the SDKs dial, then any).
  let hubAmqp: Awaited<ReturnType<typeof start>> | undefined;
  for (const [i, port] of ports.entries()) {
    try {
      hubAmqp = await start(port);
      break;
    } catch (error) {
      if (i === ports.length - 1 || !portRefused(error)) throw error;
    }
  }
  if (!hubAmqp) throw new Error('no port to listen on');
  services.hostNames.add(`${hostName}:${hubAmqp.port}`);
  return hubAmqp;
}

export interface EventHubsListeners {
  amqpPort: number;
  /** The same endpoint over TLS, when `eventHubsTlsPort` was asked for. */
  tlsPort?: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startEventHubs(
  options: EmulatorOptions,
  tls: TlsMaterial,
  services: Services,
): Promise<EventHubsListeners> {
  const { store, name, consumerGroups } = services.events;
  const endpointOptions = {
    store,
    entityName: name,
    consumerGroups,
    policies: services.policies,
    port: options.amqpPort ?? 0,
    listen: listenAddress(options),
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
        }).catch(async (error: unknown) => {
          // The TLS endpoint cannot start: the plain one stops too.
          await amqp?.close();
          throw error;
        });
  return {
    amqpPort,
    ...(eventHubsTls ? { tlsPort: eventHubsTls.port } : {}),
    // An outage of the endpoint alone (routing carries on, events are kept).
    async stop() {
      await amqp?.close();
      amqp = undefined;
    },
    async start() {
      amqp ??= await startAmqpEndpoint({ ...endpointOptions, port: amqpPort });
    },
    async close() {
      await amqp?.close();
      await eventHubsTls?.close();
    },
  };
}
