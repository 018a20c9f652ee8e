import type { HubTokenCredential } from '@twinscope/hub-connection';
import type { Logger } from '../../log.ts';
import type { HubBudget } from '../../quota/hub-budget.ts';
import type { HubAdapter } from '../hub-adapter.ts';
import { HubCalls, type HubAnswer } from './call.ts';
import { HubClients } from './clients.ts';
import { bulkJobOperations } from './bulk-jobs.ts';
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
export type IotHubAdapter = HubAdapter & {
  /**
   * Whether the hub answers: its last answer to any call when recent, otherwise one cheap
   * registry read (the device statistics) to find out.
   */
  answering(): Promise<HubAnswer>;
  close(): Promise<void>;
};

/** A call answered within this long says enough; older, the hub is asked again. */
const ANSWER_FRESH_MS = 10_000;

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
  let asking: Promise<HubAnswer> | undefined;
  return {
    hostName: clients.hostName,
    isEmulator: clients.isEmulator,
    ...identityOperations(parts),
    ...twinOperations(parts),
    ...configurationOperations(parts),
    ...bulkJobOperations(parts),
    ...methodOperations(parts),
    ...messagingOperations(parts),
    answering: () => {
      const last = calls.lastAnswer;
      if (last && Date.now() - last.at < ANSWER_FRESH_MS) return Promise.resolve(last);
      asking ??= calls
        .call('The hub', 'read', { identity: 1 }, undefined, (sdk) =>
          sdk(() => clients.registry.getRegistryStatistics()),
        )
        .then(
          () => calls.lastAnswer!,
          () =>
            calls.lastAnswer ?? { at: Date.now(), ok: false, reason: 'The hub did not answer.' },
        )
        .finally(() => (asking = undefined));
      return asking;
    },
    close: () => clients.close(),
  };
}
