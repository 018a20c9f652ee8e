import { createRequire } from 'node:module';
import iothub from 'azure-iothub';
import { PortHttp, sdkVersion, serviceCredentials } from './registry.ts';

const { Client, SharedAccessSignature } = iothub;
const require = createRequire(import.meta.url);
// The SDK's own AMQP transport and base, unmodified; the transport accepts a base, which is
// how a client reaches a hub whose AMQP port is not the one HostName implies.
const { Amqp: AmqpTransport } = require('azure-iothub/dist/amqp') as {
  Amqp: new (config: object, base?: object) => object;
};
const { Amqp: AmqpBase } = require('azure-iothub/dist/common-amqp/amqp') as {
  Amqp: new (autoSettleMessages: boolean) => {
    connect(config: { uri: string; sslOptions?: object }, done: unknown): void;
  };
};
const { RestApiClient } = require('azure-iothub/dist/common-http/rest_api_client') as {
  RestApiClient: new (config: object, userAgent: string, httpRequestBuilder?: unknown) => object;
};

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
  return new Client(transport as never, rest as never);
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
  const rest = (registry as unknown as { _restApiClient: RestClient })._restApiClient;
  return new Promise((resolve, reject) =>
    rest.executeApiCall(
      'DELETE',
      `/devices/${encodeURIComponent(deviceId)}/commands${versionQueryString()}`,
      { 'Content-Type': 'application/json; charset=utf-8' },
      null,
      (error, body) => {
        if (error) reject(error);
        else
          resolve({
            totalMessagesPurged: Number(
              (body as { totalMessagesPurged?: unknown } | undefined)?.totalMessagesPurged ?? 0,
            ),
          });
      },
    ),
  );
}

interface RestClient {
  executeApiCall(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    done: (error: Error | undefined, body?: unknown) => void,
  ): void;
}
