import { createRequire } from 'node:module';
import { request as httpsRequest, Agent } from 'node:https';
import iothub from 'azure-iothub';

const { ConnectionString, Registry, SharedAccessSignature } = iothub;
const require = createRequire(import.meta.url);
// The SDK's own REST client and HTTP base class, unmodified: RestApiClient accepts a
// request builder, which is how a test reaches a hub on a port other than 443.
const { RestApiClient } = require('azure-iothub/dist/common-http/rest_api_client') as {
  RestApiClient: new (config: object, userAgent: string, httpRequestBuilder?: unknown) => object;
};
const { Http } = require('azure-iothub/dist/common-http/http') as {
  Http: new () => { buildRequest(...args: unknown[]): unknown; setOptions(options: unknown): void };
};
const sdkVersion = (require('azure-iothub/package.json') as { version: string }).version;

type Done = (...args: unknown[]) => void;

/** The SDK's Http, told which port to dial and which CA to trust. */
class PortHttp extends Http {
  private readonly agent: Agent;

  constructor(
    private readonly hostName: string,
    private readonly port: number,
    ca: string | undefined,
  ) {
    super();
    this.agent = new Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  override setOptions(options: unknown): void {
    super.setOptions({ ...(options as object), http: { agent: this.agent } });
  }

  override buildRequest(
    method: unknown,
    path: unknown,
    headers: unknown,
    _host: unknown,
    ...rest: unknown[]
  ): unknown {
    const done = rest[rest.length - 1] as Done;
    return super.buildRequest(
      method,
      path,
      headers,
      this.hostName,
      { port: this.port, request: httpsRequest },
      done,
    );
  }
}

export interface RegistryOptions {
  /** PEM text of a CA to trust besides the system store (the emulator's CA). */
  ca?: string;
}

/**
 * An unmodified azure-iothub Registry for a service connection string. Against Azure
 * (no port in HostName, no CA) it is `Registry.fromConnectionString` itself. When HostName
 * carries a port (`localhost:8443`) or a CA is given, only the SDK's request builder is told
 * the port and the CA; tokens, paths, headers and error handling stay the SDK's own.
 */
export function registryFor(
  connectionString: string,
  options: RegistryOptions = {},
): iothub.Registry {
  const cn = ConnectionString.parse(connectionString);
  const { HostName, SharedAccessKeyName, SharedAccessKey } = cn;
  if (!HostName || !SharedAccessKeyName || !SharedAccessKey) {
    throw new Error(
      'The connection string needs HostName, SharedAccessKeyName and SharedAccessKey.',
    );
  }
  const [hostName, portText] = HostName.split(':') as [string, string | undefined];
  if (portText === undefined && options.ca === undefined)
    return Registry.fromConnectionString(connectionString);
  const config = {
    host: HostName,
    sharedAccessSignature: SharedAccessSignature.create(
      HostName,
      SharedAccessKeyName,
      SharedAccessKey,
      Date.now(),
    ),
  };
  const http = new PortHttp(hostName, portText ? Number(portText) : 443, options.ca);
  const rest = new RestApiClient(config, `azure-iothub/${sdkVersion}`, http);
  return new Registry(config as never, rest as never);
}

/** What azure-iothub needs of an Entra credential (an @azure/identity TokenCredential). */
export interface HubTokenCredential {
  getToken(
    scopes: string | string[],
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/**
 * An unmodified azure-iothub Registry that authenticates with Microsoft Entra ID (no shared
 * key): `Registry.fromTokenCredential` itself against Azure; against a hub on another port
 * or with its own CA, the same SDK config with only the request builder told port and CA.
 */
export function registryForCredential(
  host: string,
  credential: HubTokenCredential,
  options: RegistryOptions = {},
): iothub.Registry {
  const [hostName, portText] = host.split(':') as [string, string | undefined];
  if (portText === undefined && options.ca === undefined)
    return Registry.fromTokenCredential(host, credential as never);
  // The same config fromTokenCredential builds (scope included), so the SDK asks for tokens.
  const config = {
    host,
    tokenCredential: credential,
    tokenScope: 'https://iothubs.azure.net/.default',
  };
  const http = new PortHttp(hostName, portText ? Number(portText) : 443, options.ca);
  const rest = new RestApiClient(config, `azure-iothub/${sdkVersion}`, http);
  return new Registry(config as never, rest as never);
}
