import {
  jobClientFor,
  jobClientForCredential,
  registryFor,
  registryForCredential,
  serviceClientFor,
  type HubTokenCredential,
} from '@twinscope/hub-connection';
import iothub from 'azure-iothub';
import common from 'azure-iot-common';

export interface HubConnection {
  /** A service connection string, or … */
  connectionString?: string;
  /** … the hub's host name and an Entra credential (no shared key). */
  entra?: { hostName: string; credential: HubTokenCredential };
  ca?: string;
  /** Where devices and modules connect (`host[:port]`), when not the service host. */
  deviceHost?: string;
  /** The hub's AMQP port for the service client, when not 5671 (an emulator). */
  amqpsPort?: number;
  /** A request silent for this long ends, whatever call it belongs to. */
  requestTimeoutMs: number;
}

/**
 * azure-iothub's clients for one hub: the Registry and the JobClient over HTTPS, and the
 * service Client over AMQP (direct methods, cloud-to-device), made on first use and made
 * again after it faults.
 */
export class HubClients {
  readonly hostName: string;
  readonly isEmulator: boolean;
  /** Where devices connect, for the connection strings the BFF reveals. */
  readonly deviceHost: string;
  readonly registry: iothub.Registry;
  readonly jobs: iothub.JobClient;
  private serviceClient: iothub.Client | undefined;

  constructor(private readonly connection: HubConnection) {
    // A request no call could bind (Entra tokens arrive after the SDK starts) still ends.
    const options = {
      ...(connection.ca ? { ca: connection.ca } : {}),
      requestTimeoutMs: connection.requestTimeoutMs,
    };
    if (connection.connectionString) {
      this.registry = registryFor(connection.connectionString, options);
      this.jobs = jobClientFor(connection.connectionString, options);
    } else if (connection.entra) {
      const { hostName, credential } = connection.entra;
      this.registry = registryForCredential(hostName, credential, options);
      this.jobs = jobClientForCredential(hostName, credential, options);
    } else {
      throw new Error('The hub needs a connection string or a host name with a credential.');
    }
    this.hostName =
      /HostName=([^;]+)/.exec(connection.connectionString ?? '')?.[1] ??
      connection.entra?.hostName ??
      '';
    this.isEmulator = connection.ca !== undefined || this.hostName.includes(':');
    this.deviceHost = connection.deviceHost ?? this.hostName;
  }

  /** The service client (direct methods, cloud-to-device sends), made on first use. */
  service(): iothub.Client {
    this.serviceClient ??= this.newServiceClient();
    return this.serviceClient;
  }

  /** A client that faulted is dropped, so the next call starts a fresh one. */
  dropService(client: iothub.Client): void {
    if (this.serviceClient === client) this.serviceClient = undefined;
    void client.close().catch(() => undefined);
  }

  /** A service client of its own (the feedback receiver keeps one apart from sends). */
  newServiceClient(): iothub.Client {
    const { connectionString, entra, ca, amqpsPort } = this.connection;
    const client = connectionString
      ? serviceClientFor(connectionString, {
          ...(ca ? { ca } : {}),
          ...(amqpsPort ? { amqpPort: amqpsPort } : {}),
        })
      : iothub.Client.fromTokenCredential(entra!.hostName, entra!.credential);
    // One attempt per send: the BFF reports a failure instead of the SDK resending for
    // minutes behind the operator's back (a message must never go twice).
    client.setRetryPolicy(new common.NoRetry());
    return client;
  }

  /** Closes the service client's connection, if one was made (shutdown). */
  async close(): Promise<void> {
    const client = this.serviceClient;
    this.serviceClient = undefined;
    if (client) await closeWithin(client, 1000);
  }
}

/** Closes a client, waiting at most `ms`: a connection still being attempted may never settle. */
export function closeWithin(client: iothub.Client, ms: number): Promise<unknown> {
  return Promise.race([
    client.close().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ]);
}
