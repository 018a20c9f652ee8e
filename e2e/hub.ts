import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryFor } from '@twinscope/hub-connection';
import { readConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { E2E_DATA_DIR } from '../playwright.config.ts';

/** Which stack's emulator: the local-mode one, or the sign-in one (set per spec file). */
let dataDir = E2E_DATA_DIR;
export function useHubOf(dir: string): void {
  dataDir = dir;
}

const connection = () => readConnectionFile(join(dataDir, 'connection.json'));

/** The stack's emulator ports per protocol, for module apps (HostName names only one). */
export function hubPorts() {
  const { httpsPort, mqttPort, amqpsPort } = connection();
  return { https: httpsPort, mqtt: mqttPort, amqp: amqpsPort };
}

/** The emulator's host name, as connection strings name it. */
export function hubHost(): string {
  return connection().hostName;
}

/** The emulator's CA, which device and module apps trust. */
export function hubCa(): string {
  return readFileSync(connection().caCertFile, 'utf8');
}

/** The unmodified azure-iothub Registry, straight to the emulator the console uses. */
export function hubRegistry() {
  return registryFor(connection().serviceConnectionString, { ca: hubCa() });
}

export type TwinJson = {
  etag: string;
  version: number;
  tags: Record<string, unknown>;
  properties: { desired: Record<string, any>; reported: Record<string, any> };
};

export async function hubTwin(deviceId: string, moduleId?: string): Promise<TwinJson> {
  const registry = hubRegistry();
  const { responseBody } =
    moduleId === undefined
      ? await registry.getTwin(deviceId)
      : await registry.getModuleTwin(deviceId, moduleId);
  return JSON.parse(JSON.stringify(responseBody)) as TwinJson;
}
