// The emulator for other projects' tests: one call starts a hub on free ports and answers what
// a test needs (connection strings, the CA to trust), one call stops it. Everything else of
// `startEmulator` stays available for those who need it.
import { startEmulator, type RunningEmulator } from './emulator.ts';
import type { RouteSource } from './events/routing.ts';

export interface HubEmulatorOptions {
  /** Keep the hub's state here between runs; without it, the hub lives in memory. */
  dataDir?: string;
  /** Each a free port unless given. */
  ports?: { https?: number; mqtt?: number; amqps?: number; eventHubs?: number };
  /** Start with the demo fleet, or with that many devices. */
  seed?: 'demo' | number;
  /** The published development keys instead of fresh ones (see the README). */
  developmentKeys?: boolean;
  /**
   * File upload: Microsoft's Storage emulator (Azurite) beside the hub, a storage account, or
   * none (the default: uploads are refused, and the hub starts faster).
   */
  storage?: 'azurite' | { connectionString: string };
  /** Non-telemetry events routed to the built-in endpoint (`TwinChangeEvents`…). */
  routes?: RouteSource[];
}

export interface HubEmulator {
  hostName: string;
  httpsPort: number;
  /** `iothubowner`'s connection string, for azure-iothub and the other service SDKs. */
  serviceConnectionString: string;
  /** The built-in endpoint's connection string, for @azure/event-hubs. */
  eventHubsConnectionString: string;
  /** The CA that signed the hub's certificate (PEM): trust it in the SDKs' options. */
  caCert: string;
  /**
   * The Device Provisioning Service beside it: the id scope devices register in, and the
   * connection string of `azure-iot-provisioning-service`.
   */
  provisioning: { idScope: string; serviceConnectionString: string };
  /** A device's or module's connection string (the identity must exist, with a key). */
  deviceConnectionString(deviceId: string, moduleId?: string): string;
  /** The running emulator, with everything `startEmulator` answers. */
  emulator: RunningEmulator;
  stop(): Promise<void>;
}

export async function startHubEmulator(options: HubEmulatorOptions = {}): Promise<HubEmulator> {
  const emulator = await startEmulator({
    ...(options.dataDir ? { dataDir: options.dataDir } : { inMemory: true }),
    httpsPort: options.ports?.https ?? 0,
    mqttPort: options.ports?.mqtt ?? 0,
    amqpsPort: options.ports?.amqps ?? 0,
    amqpPort: options.ports?.eventHubs ?? 0,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.developmentKeys ? { developmentKeys: true } : {}),
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.routes ? { routes: options.routes } : {}),
  });
  return {
    hostName: emulator.hostName,
    httpsPort: emulator.httpsPort,
    serviceConnectionString: emulator.serviceConnectionString,
    eventHubsConnectionString: emulator.events.connectionString,
    caCert: emulator.tls.caCert,
    provisioning: {
      idScope: emulator.provisioning.idScope,
      serviceConnectionString: emulator.provisioning.serviceConnectionString,
    },
    deviceConnectionString: (deviceId, moduleId) =>
      emulator.identityConnectionString(deviceId, moduleId),
    emulator,
    stop: () => emulator.close(),
  };
}
