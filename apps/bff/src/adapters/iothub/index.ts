import type { HubTokenCredential } from '@twinscope/hub-connection';
import type { Logger } from '../../log.ts';
import type { HubBudget } from '../../quota/hub-budget.ts';
import type { HubAdapter } from '../hub-adapter.ts';
import { HubCalls } from './call.ts';
import { HubClients } from './clients.ts';
import { configurationOperations } from './configurations.ts';
import { identityOperations } from './identities.ts';
import { messagingOperations } from './messaging.ts';
import { methodOperations } from './methods.ts';
import { twinOperations } from './twins.ts';

export { mapHubError } from './errors.ts';

export interface IotHubAdapterOptions {
  /** A service connection string, or … */
  connectionString?: string;
  /** … the hub's host name and an Entra credential (no shared key). */
  entra?: { hostName: string; credential: HubTokenCredential };
  ca?: string;
  /** Where devices and modules connect (`host[:port]`), when not the service host. */
  deviceHost?: string;
  /** The hub's AMQP port for the service client, when not 5671 (an emulator). */
  amqpsPort?: number;
  logger: Logger;
  /** Throttled calls are retried while the total wait stays under this. */
  maxThrottleWaitMs?: number;
  /** How long one hub call (retries included) may take before it is abandoned. */
  deadlineMs?: number;
  /** What the BFF may spend of the hub's throttles; none: nothing is counted. */
  budget?: HubBudget;
  sleep?: (ms: number) => Promise<void>;
}

/** The hub through Microsoft's azure-iothub SDK, one area of IoT Hub per file. */
export type IotHubAdapter = HubAdapter & { close(): Promise<void> };

export function createIotHubAdapter(options: IotHubAdapterOptions): IotHubAdapter {
  const calls = new HubCalls(options);
  const clients = new HubClients({
    ...(options.connectionString ? { connectionString: options.connectionString } : {}),
    ...(options.entra ? { entra: options.entra } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.deviceHost ? { deviceHost: options.deviceHost } : {}),
    ...(options.amqpsPort ? { amqpsPort: options.amqpsPort } : {}),
    requestTimeoutMs: calls.deadlineMs,
  });
  const parts = { calls, clients };
  return {
    hostName: clients.hostName,
    isEmulator: clients.isEmulator,
    ...identityOperations(parts),
    ...twinOperations(parts),
    ...configurationOperations(parts),
    ...methodOperations(parts),
    ...messagingOperations(parts),
    close: () => clients.close(),
  };
}
