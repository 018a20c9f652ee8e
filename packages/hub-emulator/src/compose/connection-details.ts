// How clients reach the running hub: the connection strings it hands out, and connection.json
// for readers in other processes.
import { join } from 'node:path';
import { STANDARD_PORTS } from './reach.ts';
import type { Policy } from '../auth/sas.ts';
import type { ConnectionFile } from '../connection-file.ts';
import { writePrivateFile } from '../store/private-files.ts';
import type { Registry } from '../store/registry.ts';

export function connectionString(
  hostName: string,
  port: number,
  policy: Pick<Policy, 'keyName' | 'primaryKey'>,
): string {
  const host = port === STANDARD_PORTS.https ? hostName : `${hostName}:${port}`;
  return `HostName=${host};SharedAccessKeyName=${policy.keyName};SharedAccessKey=${policy.primaryKey}`;
}

/** The connection string @azure/event-hubs takes for the built-in endpoint. */
export function eventHubsConnectionString(
  hostName: string,
  amqpPort: number,
  eventHubName: string,
  policies: readonly Policy[],
): string {
  const servicePolicy = policies.find((p) => p.keyName === 'service') ?? policies[0]!;
  return `Endpoint=sb://${hostName}:${amqpPort}/;SharedAccessKeyName=${servicePolicy.keyName};SharedAccessKey=${servicePolicy.primaryKey};EntityPath=${eventHubName};UseDevelopmentEmulator=true`;
}

/** `RunningEmulator.identityConnectionString` for this hub's host name and ports. */
export function identityConnectionStrings(
  registry: Registry,
  hostName: string,
  ports: { mqtt: number; amqps: number },
) {
  return (deviceId: string, moduleId?: string, transport: 'mqtt' | 'amqp' = 'mqtt') => {
    const key = registry.find(deviceId, moduleId)?.authentication.symmetricKey.primaryKey;
    if (!key) throw new Error(`${moduleId ?? deviceId} does not exist or has no symmetric key`);
    const [transportPort, sdkPort] =
      transport === 'amqp'
        ? [ports.amqps, STANDARD_PORTS.amqps]
        : [ports.mqtt, STANDARD_PORTS.mqtt];
    const host = transportPort === sdkPort ? hostName : `${hostName}:${transportPort}`;
    return `HostName=${host};DeviceId=${deviceId};${moduleId ? `ModuleId=${moduleId};` : ''}SharedAccessKey=${key}`;
  };
}

/** Writes `<dataDir>/connection.json` (private: it holds the owner key) and says where. */
export function writeConnectionFile(dataDir: string, details: ConnectionFile): string {
  const file = join(dataDir, 'connection.json');
  writePrivateFile(file, `${JSON.stringify(details, null, 2)}\n`);
  return file;
}
