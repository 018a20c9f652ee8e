import { createRequire } from 'node:module';
import iothub from 'azure-iothub';
import { PortHttp, RestApiClient, sdkVersion, serviceCredentials } from './registry.ts';

const { Client, SharedAccessSignature } = iothub;
const require = createRequire(import.meta.url);
// The SDK's own AMQP transport and base, unmodified; the transport accepts a base, which is
// how a client reaches a hub whose AMQP port is not the one HostName implies.
const { Amqp: AmqpTransport } =
  require('azure-iothub/dist/amqp.js') as typeof import('azure-iothub/dist/amqp.js');
const { Amqp: AmqpBase } =
  require('azure-iothub/dist/common-amqp/amqp.js') as typeof import('azure-iothub/dist/common-amqp/amqp.js');

export interface ServiceClientOptions {
  /** PEM text of a CA to trust besides the system store (the emulator's CA). */
  ca?: string;
  /** The hub's AMQP port when it is not 5671 (one HostName cannot carry a port per protocol). */
  amqpPort?: number;
}

/**
 * An unmodified azure-iothub service `Client` (cloud-to-device send, feedback, purge,
 * direct methods) for a service connection string. Against Azure it is
 * `Client.fromConnectionString`. Otherwise only where the SDK dials is set: its AMQP base is
 * told the port and the CA, its REST client the HTTPS port (from HostName) and the CA.
 */
export function serviceClientFor(
  connectionString: string,
  options: ServiceClientOptions = {},
): iothub.Client {
  const { HostName, SharedAccessKeyName, SharedAccessKey, hostName, portText } =
    serviceCredentials(connectionString);
  if (portText === undefined && options.ca === undefined && options.amqpPort === undefined)
    return Client.fromConnectionString(connectionString);
  const config = {
    host: HostName,
    keyName: SharedAccessKeyName,
    sharedAccessSignature: SharedAccessSignature.create(
      HostName,
      SharedAccessKeyName,
      SharedAccessKey,
      Math.floor(Date.now() / 1000) + 3600,
    ),
    tokenCredential: undefined,
  };
  const base = new AmqpBase(true);
  const connect = base.connect.bind(base);
  base.connect = (amqpConfig, done) =>
    connect(
      {
        ...amqpConfig,
        uri: `amqps://${hostName}:${options.amqpPort ?? 5671}`,
        ...(options.ca ? { sslOptions: { ca: options.ca } } : {}),
      },
      done,
    );
  const transport = new AmqpTransport(config, base);
  const http = new PortHttp(hostName, portText ? Number(portText) : 443, options.ca, undefined);
  const rest = new RestApiClient(config, `azure-iothub/${sdkVersion}`, http);
  return new Client(transport, rest);
}

const { versionQueryString } = require('azure-iothub/dist/version') as {
  versionQueryString(): string;
};

/**
 * Empties a device's cloud-to-device queue (`DELETE /devices/{id}/commands`), through the
 * Registry's own REST client (its auth, its port hook). The Node SDK has the operation only
 * in an unexported generated client.
 */
export function purgeCloudToDeviceQueue(
  registry: iothub.Registry,
  deviceId: string,
): Promise<{ totalMessagesPurged: number }> {
  // The Registry keeps its REST client (its auth, its port hook) in a private field.
  const rest: InstanceType<typeof RestApiClient> = Reflect.get(registry, '_restApiClient');
  return new Promise((resolve, reject) =>
    rest.executeApiCall(
      'DELETE',
      `/devices/${encodeURIComponent(deviceId)}/commands${versionQueryString()}`,
      { 'Content-Type': 'application/json; charset=utf-8' },
      null,
      (error: Error | undefined, body: unknown) => {
        if (error) reject(error);
        else
          resolve({
            totalMessagesPurged:
              typeof body === 'object' && body !== null && 'totalMessagesPurged' in body
                ? Number(body.totalMessagesPurged)
                : 0,
          });
      },
    ),
  );
}
