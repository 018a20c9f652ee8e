import { registryFor } from '@twinscope/hub-connection';
import { runModule, type Log, type RunningModule } from './module-app.ts';

export interface FleetOptions {
  /** A service connection string with registry read rights (to find modules and their keys). */
  serviceConnectionString: string;
  ca?: string;
  /** The modules to run, as an IoT Hub query on `devices.modules`. */
  query?: string;
  /** Where modules connect, when it differs from the service host (the emulator's MQTT port). */
  mqttHost?: string;
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
  const host = /HostName=([^;]+)/.exec(options.serviceConnectionString)?.[1] ?? '';
  const mqttHost = options.mqttHost ?? host;
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
  for (const { deviceId, moduleId } of modules) {
    const { responseBody } = await registry.getModule(deviceId, moduleId);
    const key = responseBody.authentication?.symmetricKey?.primaryKey;
    if (!key) {
      options.log(`fleet: skipping ${deviceId}/${moduleId}: no symmetric key`);
      continue;
    }
    const connectionString = `HostName=${mqttHost};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${key}`;
    try {
      running.push(
        await runModule(connectionString, {
          ...(options.ca ? { ca: options.ca } : {}),
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
