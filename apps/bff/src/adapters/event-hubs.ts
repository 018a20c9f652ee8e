import {
  EventHubConsumerClient,
  latestEventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import type { TokenCredential } from '@azure/identity';
import type { TwinSectionName } from '@twinscope/contract';

/** Where a routed message sits: its partition and sequence number there. */
export interface EventSourcePosition {
  partition: number;
  sequenceNumber: number;
}

/** A routed IoT Hub message reduced to what the live view needs. */
export interface RoutedChange {
  position: EventSourcePosition;
  /** `iothub-message-source`: twinChangeEvents, deviceLifecycleEvents, Telemetry … */
  source: string;
  opType: string;
  deviceId: string;
  moduleId?: string;
  /** The twin's version after a twin change. */
  version?: number;
  sections: TwinSectionName[];
}

/** What the live feed needs of an event source; the Event Hubs SDK stays in here. */
export interface EventSource {
  /**
   * Reads every partition from its newest event on. `batch` is called for each batch,
   * empty ones included (every half second: the source's sign of life), with the first
   * sequence number the batch held.
   */
  subscribeLatest(handlers: {
    batch(
      partition: number,
      changes: RoutedChange[],
      firstSequence?: number,
      lastSequence?: number,
    ): Promise<void>;
    error(error: Error): void;
  }): { close(): Promise<void> };
  partitionCount(): Promise<number>;
  partition(partition: number): Promise<{ begin: number; last: number; isEmpty: boolean }>;
  /** Events of a partition after `after` up to `last` (inclusive), at most `limit`, within 10 s. */
  read(
    partition: number,
    after: number,
    last: number,
    limit: number,
  ): Promise<{ changes: RoutedChange[]; complete: boolean }>;
  close(): Promise<void>;
}

export interface EventHubsSettings {
  /** An Event Hubs connection string (the hub's built-in endpoint or a custom Event Hub) … */
  connectionString?: string;
  /** … or a namespace host and event hub name, reached with an Entra credential. */
  namespace?: {
    host: string;
    eventHubName: string;
    credential: TokenCredential;
    /** Connect here instead of the namespace host (private endpoint, proxy). */
    endpointAddress?: string;
  };
  consumerGroup: string;
}

/** IoT Hub's routed-message properties, read the same way for every source. */
function changeOf(event: ReceivedEventData, partition: number): RoutedChange | undefined {
  const system = event.systemProperties ?? {};
  const app = event.properties ?? {};
  const deviceId = app['deviceId'] ?? system['iothub-connection-device-id'];
  if (typeof deviceId !== 'string') return undefined;
  const moduleId = app['moduleId'] ?? system['iothub-connection-module-id'];
  const body = (typeof event.body === 'object' && event.body !== null ? event.body : {}) as {
    version?: number;
    tags?: unknown;
    properties?: { desired?: unknown; reported?: unknown };
  };
  const sections: TwinSectionName[] = [];
  if (body.tags !== undefined) sections.push('tags');
  if (body.properties?.desired !== undefined) sections.push('desired');
  if (body.properties?.reported !== undefined) sections.push('reported');
  return {
    position: { partition, sequenceNumber: event.sequenceNumber },
    source: String(system['iothub-message-source'] ?? ''),
    opType: String(app['opType'] ?? ''),
    deviceId,
    ...(typeof moduleId === 'string' ? { moduleId } : {}),
    ...(typeof body.version === 'number' ? { version: body.version } : {}),
    sections,
  };
}

const changesOf = (events: ReceivedEventData[], partition: number) =>
  events.flatMap((event) => changeOf(event, partition) ?? []);

/** The event source on @azure/event-hubs' EventHubConsumerClient. */
export class EventHubsSource implements EventSource {
  private readonly client: EventHubConsumerClient;

  constructor(private readonly settings: EventHubsSettings) {
    this.client = this.newClient();
  }

  private newClient(): EventHubConsumerClient {
    const s = this.settings;
    const options = { retryOptions: { maxRetries: 3, retryDelayInMs: 500, timeoutInMs: 10_000 } };
    if (s.connectionString)
      return new EventHubConsumerClient(s.consumerGroup, s.connectionString, options);
    if (s.namespace)
      return new EventHubConsumerClient(
        s.consumerGroup,
        s.namespace.host,
        s.namespace.eventHubName,
        s.namespace.credential,
        {
          ...options,
          ...(s.namespace.endpointAddress
            ? { customEndpointAddress: s.namespace.endpointAddress }
            : {}),
        },
      );
    throw new Error('the event feed needs a connection string or a namespace and credential');
  }

  subscribeLatest(handlers: Parameters<EventSource['subscribeLatest']>[0]) {
    return this.client.subscribe(
      {
        processEvents: (events, context) => {
          const partition = Number(context.partitionId);
          return handlers.batch(
            partition,
            changesOf(events, partition),
            events[0]?.sequenceNumber,
            events.at(-1)?.sequenceNumber,
          );
        },
        processError: async (error) => handlers.error(error as Error),
      },
      { startPosition: latestEventPosition, maxWaitTimeInSeconds: 0.5, maxBatchSize: 200 },
    );
  }

  async partitionCount(): Promise<number> {
    return (await this.client.getPartitionIds()).length;
  }

  async partition(partition: number) {
    const p = await this.client.getPartitionProperties(String(partition));
    return {
      begin: p.beginningSequenceNumber,
      last: p.lastEnqueuedSequenceNumber,
      isEmpty: p.isEmpty,
    };
  }

  /** Reads on a client of its own, so a catch-up never disturbs the live subscription. */
  async read(partition: number, after: number, last: number, limit: number) {
    const client = this.newClient();
    try {
      return await new Promise<{ changes: RoutedChange[]; complete: boolean }>((resolve) => {
        const events: ReceivedEventData[] = [];
        let done = false;
        const finish = (complete: boolean) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          void subscription.close();
          resolve({ changes: changesOf(events, partition), complete });
        };
        const timer = setTimeout(() => finish(false), 10_000);
        const subscription = client.subscribe(
          String(partition),
          {
            processEvents: async (batch) => {
              for (const event of batch) {
                if (event.sequenceNumber > last) return finish(true);
                events.push(event);
                if (event.sequenceNumber === last) return finish(true);
                if (events.length >= limit) return finish(false);
              }
            },
            processError: async () => finish(false),
          },
          {
            startPosition: { sequenceNumber: after, isInclusive: false },
            maxBatchSize: 500,
            maxWaitTimeInSeconds: 0.3,
          },
        );
      });
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
