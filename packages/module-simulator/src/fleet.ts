import { registryFor, serviceCredentials } from '@twinscope/hub-connection';
import {
  runModule,
  TRANSPORTS,
  type HubPorts,
  type Log,
  type RunningModule,
  type Transport,
} from './module-app.ts';

export interface FleetOptions {
  /** A service connection string with registry read rights (to find modules and their keys). */
  serviceConnectionString: string;
  ca?: string;
  /** The modules to run, as an IoT Hub query on `devices.modules`. */
  query?: string;
  /** Where modules connect per protocol, when not on the SDKs' ports (the emulator's). */
  ports?: HubPorts;
  /** One transport for every module; by default the fleet takes turns over all four. */
  transport?: Transport;
  log: Log;
}

/**
 * Runs the how-to's module app for every module a query selects (all of them by default), in
 * one process: the back-end side finds modules and their keys, then each module connects
 * with its own connection string exactly as it would on a real device.
 */
export async function runFleet(options: FleetOptions): Promise<RunningModule[]> {
  const registry = registryFor(
    options.serviceConnectionString,
    options.ca ? { ca: options.ca } : {},
  );
  const host = serviceCredentials(options.serviceConnectionString).hostName;
  const query = registry.createQuery(options.query ?? 'SELECT * FROM devices.modules', 1000);
  const modules: { deviceId: string; moduleId: string }[] = [];
  do {
    const { result } = await query.next(query.continuationToken);
    for (const item of result as { deviceId: string; moduleId: string }[]) {
      if (!item.moduleId.startsWith('$'))
        modules.push({ deviceId: item.deviceId, moduleId: item.moduleId });
    }
  } while (query.hasMoreResults);
  options.log(`fleet: ${modules.length} modules`);
  const running: RunningModule[] = [];
  for (const [index, { deviceId, moduleId }] of modules.entries()) {
    const { responseBody } = await registry.getModule(deviceId, moduleId);
    // An IoT Edge runtime runs its device's modules (module-simulator --edge).
    if (responseBody.managedBy === 'IotEdge') continue;
    const key = responseBody.authentication?.symmetricKey?.primaryKey;
    if (!key) {
      options.log(`fleet: skipping ${deviceId}/${moduleId}: no symmetric key`);
      continue;
    }
    const connectionString = `HostName=${host};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
    try {
      running.push(
        await runModule(connectionString, {
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.ports ? { ports: options.ports } : {}),
          transport: options.transport ?? TRANSPORTS[index % TRANSPORTS.length]!,
          log: options.log,
        }),
      );
    } catch (error) {
      options.log(
        `fleet: ${deviceId}/${moduleId} could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return running;
}
