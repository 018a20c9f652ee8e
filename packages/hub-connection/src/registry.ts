import type { ClientRequest } from 'node:http';
import { createRequire } from 'node:module';
import { request as httpsRequest, Agent } from 'node:https';
import iothub from 'azure-iothub';

const { ConnectionString, JobClient, Registry, SharedAccessSignature } = iothub;
const require = createRequire(import.meta.url);
// The SDK's own REST client and HTTP base class, unmodified: RestApiClient accepts a
// request builder, which is how a test reaches a hub on a port other than 443.
// The SDK ships these modules' declarations; only its index does not export them.
export const { RestApiClient } =
  require('azure-iothub/dist/common-http/rest_api_client') as typeof import('azure-iothub/dist/common-http/rest_api_client.js');
const { Http } =
  require('azure-iothub/dist/common-http/http') as typeof import('azure-iothub/dist/common-http/http.js');
export const sdkVersion = (require('azure-iothub/package.json') as { version: string }).version;

/** The signal of the SDK call being started right now (the SDK builds SAS requests at once). */
let starting: AbortSignal | undefined;

/**
 * Starts one SDK call so that the HTTP request it builds is destroyed when `signal` aborts
 * (a deadline passed, the browser went away), or at once if it already has. The SDK has no
 * deadline of its own: against a hung hub a request waits for as long as the hub does.
 *
 * The SDK builds a request synchronously when it signs with a shared access key, which is
 * when the request is bound. With an Entra credential it builds it after fetching a token,
 * unbound: `requestTimeoutMs` (an idle limit on every request) ends those instead. A plain
 * variable rather than AsyncLocalStorage, whose hooks would slow every promise in the BFF.
 */
export function abortableHubCall<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  const previous = starting;
  starting = signal;
  try {
    return call();
  } finally {
    starting = previous;
  }
}

function bindToCall(request: ClientRequest, idleTimeoutMs: number | undefined): void {
  if (idleTimeoutMs !== undefined)
    request.setTimeout(idleTimeoutMs, () => request.destroy(new Error('the hub did not answer')));
  const signal = starting;
  if (!signal) return;
  const abort = () => request.destroy(signal.reason instanceof Error ? signal.reason : undefined);
  if (signal.aborted) {
    abort();
    return;
  }
  signal.addEventListener('abort', abort, { once: true });
  request.once('close', () => signal.removeEventListener('abort', abort));
}

/** The SDK's Http, told which port to dial, which CA to trust, and when to give up. */
export class PortHttp extends Http {
  private readonly agent: Agent;

  constructor(
    private readonly hostName: string,
    private readonly port: number,
    ca: string | undefined,
    private readonly requestTimeoutMs: number | undefined,
  ) {
    super();
    this.agent = new Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  override setOptions(options: object): void {
    super.setOptions({ ...options, http: { agent: this.agent } });
  }

  override buildRequest(
    ...args: Parameters<InstanceType<typeof Http>['buildRequest']>
  ): ClientRequest {
    const [method, path, headers, , options, done] = args;
    // The SDK passes (…, host, done) or (…, host, options, done): the callback is the last.
    const callback = typeof options === 'function' ? options : done;
    const request = super.buildRequest(
      method,
      path,
      headers,
      this.hostName,
      { port: this.port, request: httpsRequest },
      callback,
    );
    bindToCall(request, this.requestTimeoutMs);
    return request;
  }
}

export interface RegistryOptions {
  /** PEM text of a CA to trust besides the system store (the emulator's CA). */
  ca?: string;
  /** A request silent for this long is destroyed, whether or not a call bound it. */
  requestTimeoutMs?: number;
}

/**
 * The parts of a service (policy) connection string, HostName split into host and port;
 * throws when one is missing.
 */
export function serviceCredentials(connectionString: string) {
  const { HostName, SharedAccessKeyName, SharedAccessKey } =
    ConnectionString.parse(connectionString);
  if (!HostName || !SharedAccessKeyName || !SharedAccessKey) {
    throw new Error(
      'The connection string needs HostName, SharedAccessKeyName and SharedAccessKey.',
    );
  }
  const [hostName, portText] = HostName.split(':') as [string, string | undefined];
  return { HostName, SharedAccessKeyName, SharedAccessKey, hostName, portText };
}

/**
 * An unmodified azure-iothub Registry for a service connection string. Only the SDK's
 * request builder is replaced: it is told the port (`localhost:8443`; 443 when HostName has
 * none) and the CA to trust, and it lets `abortableHubCall` abandon requests. Tokens,
 * paths, headers and error handling stay the SDK's own.
 */
export function registryFor(
  connectionString: string,
  options: RegistryOptions = {},
): iothub.Registry {
  const { config, rest } = restClientFor(connectionString, options);
  return new Registry(config, rest);
}

/** An unmodified azure-iothub JobClient (jobs v2), reaching the hub as `registryFor` does. */
export function jobClientFor(
  connectionString: string,
  options: RegistryOptions = {},
): iothub.JobClient {
  return new JobClient(restClientFor(connectionString, options).rest);
}

function restClientFor(connectionString: string, options: RegistryOptions) {
  const { HostName, SharedAccessKeyName, SharedAccessKey, hostName, portText } =
    serviceCredentials(connectionString);
  const config = {
    host: HostName,
    sharedAccessSignature: SharedAccessSignature.create(
      HostName,
      SharedAccessKeyName,
      SharedAccessKey,
      Date.now(),
    ),
  };
  const http = new PortHttp(
    hostName,
    portText ? Number(portText) : 443,
    options.ca,
    options.requestTimeoutMs,
  );
  const rest = new RestApiClient(config, `azure-iothub/${sdkVersion}`, http);
  return { config, rest };
}

/** What azure-iothub needs of an Entra credential (an @azure/identity TokenCredential). */
export interface HubTokenCredential {
  getToken(
    scopes: string | string[],
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/**
 * An unmodified azure-iothub Registry that authenticates with Microsoft Entra ID (no shared
 * key): the config `Registry.fromTokenCredential` builds, with the same request builder as
 * `registryFor` (port, CA, abandonable requests).
 */
export function registryForCredential(
  host: string,
  credential: HubTokenCredential,
  options: RegistryOptions = {},
): iothub.Registry {
  const { config, rest } = restClientForCredential(host, credential, options);
  return new Registry(config, rest);
}

/** An unmodified azure-iothub JobClient reaching the hub with an Entra credential. */
export function jobClientForCredential(
  host: string,
  credential: HubTokenCredential,
  options: RegistryOptions = {},
): iothub.JobClient {
  return new JobClient(restClientForCredential(host, credential, options).rest);
}

function restClientForCredential(
  host: string,
  credential: HubTokenCredential,
  options: RegistryOptions,
) {
  const [hostName, portText] = host.split(':') as [string, string | undefined];
  // The same config fromTokenCredential builds (scope included), so the SDK asks for tokens.
  const config = {
    host,
    tokenCredential: credential,
    tokenScope: 'https://iothubs.azure.net/.default',
  };
  const http = new PortHttp(
    hostName,
    portText ? Number(portText) : 443,
    options.ca,
    options.requestTimeoutMs,
  );
  const rest = new RestApiClient(config, `azure-iothub/${sdkVersion}`, http);
  return { config, rest };
}
