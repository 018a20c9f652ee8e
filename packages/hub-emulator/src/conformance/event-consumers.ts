import {
  EventHubConsumerClient,
  type EventPosition,
  type PartitionContext,
  type ReceivedEventData,
  type Subscription,
  type SubscriptionEventHandlers,
} from '@azure/event-hubs';
import { afterEach } from 'vitest';

/**
 * Consumers of the built-in endpoint with the unmodified @azure/event-hubs, closed after each
 * test: `track` a client, `collect` what a subscription receives.
 */
export function useEventConsumers() {
  const clients: EventHubConsumerClient[] = [];
  const subscriptions: Subscription[] = [];
  // Closing is bounded: a client whose connection the endpoint already dropped (a settle
  // racing a session's end) can wait a minute for a detach that never comes.
  const bounded = (closing: Promise<unknown>) =>
    Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  afterEach(async () => {
    await bounded(Promise.allSettled(subscriptions.splice(0).map((s) => s.close())));
    await bounded(Promise.allSettled(clients.splice(0).map((c) => c.close())));
  });

  const track = (client: EventHubConsumerClient) => {
    clients.push(client);
    return client;
  };

  /** Subscribes and collects events; `until` resolves once a matching one arrived. */
  function collect(
    client: EventHubConsumerClient,
    startPosition: EventPosition | Record<string, EventPosition>,
    options: { onError?: (error: Error) => void; partitionId?: string } = {},
  ) {
    const events: ReceivedEventData[] = [];
    const waiters: (() => void)[] = [];
    /** Partitions whose receiver delivered a batch (an empty one too: it is attached). */
    const attached = new Set<string>();
    const handlers = {
      processEvents: async (batch: ReceivedEventData[], context: PartitionContext) => {
        attached.add(context.partitionId);
        events.push(...batch);
        if (batch.length > 0) await context.updateCheckpoint(batch.at(-1)!);
        waiters.splice(0).forEach((w) => w());
      },
      processError: async (error: Error) => {
        options.onError?.(error);
      },
    } satisfies SubscriptionEventHandlers;
    const subscribeOptions = { startPosition, maxWaitTimeInSeconds: 0.2 };
    const subscription =
      options.partitionId === undefined
        ? client.subscribe(handlers, subscribeOptions)
        : client.subscribe(options.partitionId, handlers, subscribeOptions);
    subscriptions.push(subscription);
    const until = async (ready: () => boolean, timeoutMs: number, what: () => string) => {
      const deadline = Date.now() + timeoutMs;
      while (!ready()) {
        if (Date.now() > deadline) throw new Error(what());
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    };
    return {
      events,
      /**
       * Once every partition's receiver is attached: from then on "latest" means after now
       * (under load, attaching can take longer than any fixed pause).
       */
      async attached(timeoutMs = 8000) {
        const partitions = options.partitionId
          ? [options.partitionId]
          : await client.getPartitionIds();
        await until(
          () => partitions.every((p) => attached.has(p)),
          timeoutMs,
          () => `receivers attached on ${attached.size} of ${partitions.length} partitions`,
        );
      },
      async until(match: (e: ReceivedEventData) => boolean, timeoutMs = 8000) {
        await until(
          () => events.some(match),
          timeoutMs,
          () => `no matching event among ${events.length}`,
        );
        return events.find(match)!;
      },
    };
  }

  return { track, collect };
}
