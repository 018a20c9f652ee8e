import { createRequire } from 'node:module';
import provisioningService from 'azure-iot-provisioning-service';
import { PortHttp, serviceCredentials, type HubTokenCredential } from './registry.ts';

const { ProvisioningServiceClient } = provisioningService;
const require = createRequire(import.meta.url);
// The provisioning SDK's own REST client (azure-iot-http-base, as the SDK resolves it),
// unmodified; like the Registry's, it accepts a request builder (port, CA, deadlines).
const sdkRequire = createRequire(require.resolve('azure-iot-provisioning-service'));
const { RestApiClient } = sdkRequire('azure-iot-http-base') as {
  RestApiClient: new (
    config: object,
    userAgent: string,
    http: object,
  ) => { setOptions(options: object): void };
};
const { SharedAccessSignature } = sdkRequire('azure-iot-common') as {
  SharedAccessSignature: {
    create(host: string, name: string, key: string, expiry: number): object;
  };
};
const sdkVersion = (
  sdkRequire('azure-iot-provisioning-service/package.json') as { version: string }
).version;

export interface ProvisioningOptions {
  /** PEM text of a CA to trust besides the system store (the emulator's CA). */
  ca?: string;
  /** A request silent for this long is destroyed. */
  requestTimeoutMs?: number;
}

function clientFor(
  config: Record<string, unknown> & { host: string },
  options: ProvisioningOptions,
): provisioningService.ProvisioningServiceClient {
  const [hostName, portText] = config.host.split(':') as [string, string | undefined];
  const http = new PortHttp(
    hostName,
    portText ? Number(portText) : 443,
    options.ca,
    options.requestTimeoutMs,
  );
  const rest = new RestApiClient(config, `azure-iot-provisioning-service/${sdkVersion}`, http);
  // What the Registry does on creation, which the provisioning client does not: the request
  // builder's agent (keep-alive, the CA to trust) is installed through its options.
  rest.setOptions({});
  return new ProvisioningServiceClient(config as never, rest as never);
}

/**
 * An unmodified ProvisioningServiceClient for a DPS service connection string
 * (`HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`): the config
 * `fromConnectionString` builds, with the request builder the Registry has (a port in
 * HostName, a CA to trust, abandonable requests).
 */
export function provisioningClientFor(
  connectionString: string,
  options: ProvisioningOptions = {},
): provisioningService.ProvisioningServiceClient {
  const { HostName, SharedAccessKeyName, SharedAccessKey } = serviceCredentials(connectionString);
  return clientFor(
    {
      host: HostName,
      sharedAccessSignature: SharedAccessSignature.create(
        HostName,
        SharedAccessKeyName,
        SharedAccessKey,
        Date.now(),
      ),
    },
    options,
  );
}

/**
 * … and for an Entra credential holding a DPS data-plane role (the config
 * `fromTokenCredential` builds, scope included).
 */
export function provisioningClientForCredential(
  host: string,
  credential: HubTokenCredential,
  options: ProvisioningOptions = {},
): provisioningService.ProvisioningServiceClient {
  return clientFor(
    {
      host,
      tokenCredential: credential,
      tokenScope: 'https://azure-devices-provisioning.net/.default',
    },
    options,
  );
}
