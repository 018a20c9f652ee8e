import { createHash } from 'node:crypto';
import {
  EventHubConsumerClient,
  latestEventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import type { TokenCredential } from '@azure/identity';
import type { TwinSectionName } from '@twinscope/contract';
import { objectOf, parseJson, type JsonObject } from '@twinscope/twin';

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
  /** When the hub enqueued it (epoch ms). */
  enqueuedTime?: number;
  sections: TwinSectionName[];
  /** A twin change: what the hub's notification says changed, when it is under 64 KB … */
  patch?: JsonObject;
  /** … and over that, its size and SHA-256 (the history shows a gap there). */
  patchDigest?: { sha256: string; bytes: number };
  /** A device-to-cloud message (source Telemetry): its raw body and properties. */
  message?: {
    body: Buffer;
    enqueuedTime: number;
    properties: Record<string, string>;
    system: Record<string, string>;
  };
}

/** Where a read starts: after a sequence number, or at the first event enqueued from a time (epoch ms). */
export type ReadStart = { after: number } | { enqueuedOn: number };

/** What the live feed needs of an event source; the Event Hubs SDK stays in here. */
export interface EventSource {
  /**
   * Reads every partition from its newest event on. `batch` is called for each batch,
   * empty ones included (every half second: the source's sign of life), with the first
   * sequence number the batch held, and the partition's last enqueued one when the endpoint
   * says (Event Hubs' receiver runtime metric): how far behind the feed reads.
   */
  subscribeLatest(handlers: {
    batch(
      partition: number,
      changes: RoutedChange[],
      firstSequence?: number,
      lastSequence?: number,
      lastEnqueued?: number,
    ): Promise<void>;
    error(error: Error): void;
  }): { close(): Promise<void> };
  partitionCount(): Promise<number>;
  /** A partition's first and last sequence numbers, and when its last event was enqueued (epoch ms). */
  partition(
    partition: number,
  ): Promise<{ begin: number; last: number; isEmpty: boolean; lastEnqueuedAt: number }>;
  /**
   * Events of a partition from `start` (after a sequence number, or from an enqueued time)
   * up to `last` (inclusive), at most `limit`, within 10 s.
   */
  read(
    partition: number,
    start: ReadStart,
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

/** The body as bytes (the consumer is told not to parse it: telemetry keeps its bytes). */
function bytesOf(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body === undefined || body === null) return Buffer.alloc(0);
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

/** Properties as text, whatever AMQP type they came as. */
function textRecord(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    out[key] =
      typeof value === 'string'
        ? value
        : value instanceof Date
          ? value.toISOString()
          : Buffer.isBuffer(value)
            ? value.toString('hex')
            : typeof value === 'object'
              ? JSON.stringify(value)
              : String(value);
  }
  return out;
}

/** IoT Hub's system properties worth showing with a message. */
const SHOWN_SYSTEM = [
  'messageId',
  'correlationId',
  'contentType',
  'contentEncoding',
  'iothub-outputname',
  'iothub-connection-auth-method',
  // The Plug and Play component that sent it.
  'dt-subject',
];

/** A twin change notification's body is kept (timeline, history) up to this size. */
const PATCH_KEPT_BYTES = 64 * 1024;

/** IoT Hub's routed-message properties, read the same way for every source. */
function changeOf(event: ReceivedEventData, partition: number): RoutedChange | undefined {
  const system = event.systemProperties ?? {};
  const app = event.properties ?? {};
  const deviceId = app['deviceId'] ?? system['iothub-connection-device-id'];
  if (typeof deviceId !== 'string') return undefined;
  const moduleId = app['moduleId'] ?? system['iothub-connection-module-id'];
  const source = String(system['iothub-message-source'] ?? '');
  const raw = bytesOf(event.body);
  if (source === 'Telemetry') {
    const shown: Record<string, unknown> = {};
    for (const key of SHOWN_SYSTEM) if (system[key] !== undefined) shown[key] = system[key];
    if (event.messageId !== undefined) shown['messageId'] = event.messageId;
    if (event.correlationId !== undefined) shown['correlationId'] = event.correlationId;
    if (event.contentType !== undefined) shown['contentType'] = event.contentType;
    return {
      position: { partition, sequenceNumber: event.sequenceNumber },
      source,
      opType: '',
      deviceId,
      ...(typeof moduleId === 'string' ? { moduleId } : {}),
      sections: [],
      message: {
        body: raw,
        enqueuedTime: event.enqueuedTimeUtc.getTime(),
        properties: textRecord(app),
        system: textRecord(shown),
      },
    };
  }
  let body: JsonObject = {};
  try {
    body = objectOf(raw.length > 0 ? parseJson(raw.toString('utf8')) : {});
  } catch {
    // Not JSON: a change with no sections.
  }
  const sections: TwinSectionName[] = [];
  const { version, ...patch } = body;
  const properties = objectOf(body['properties']);
  const keepPatch = source === 'twinChangeEvents' && raw.length <= PATCH_KEPT_BYTES;
  if (body['tags'] !== undefined) sections.push('tags');
  if (properties['desired'] !== undefined) sections.push('desired');
  if (properties['reported'] !== undefined) sections.push('reported');
  return {
    position: { partition, sequenceNumber: event.sequenceNumber },
    source,
    opType: String(app['opType'] ?? ''),
    enqueuedTime: event.enqueuedTimeUtc.getTime(),
    deviceId,
    ...(typeof moduleId === 'string' ? { moduleId } : {}),
    ...(typeof version === 'number' ? { version } : {}),
    sections,
    ...(keepPatch ? { patch } : {}),
    ...(source === 'twinChangeEvents' && !keepPatch
      ? {
          patchDigest: {
            sha256: createHash('sha256').update(raw).digest('hex'),
            bytes: raw.length,
          },
        }
      : {}),
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
            context.lastEnqueuedEventProperties?.sequenceNumber,
          );
        },
        processError: async (error) => handlers.error(error as Error),
      },
      {
        startPosition: latestEventPosition,
        maxWaitTimeInSeconds: 0.5,
        maxBatchSize: 200,
        trackLastEnqueuedEventProperties: true,
        // Bodies stay bytes: telemetry is shown as sent (JSON, text or hex).
        skipParsingBodyAsJson: true,
      },
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
      lastEnqueuedAt: p.lastEnqueuedOnUtc.getTime(),
    };
  }

  /** Reads on a client of its own, so a catch-up never disturbs the live subscription. */
  async read(partition: number, start: ReadStart, last: number, limit: number) {
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
            startPosition:
              'after' in start
                ? { sequenceNumber: start.after, isInclusive: false }
                : { enqueuedOn: new Date(start.enqueuedOn) },
            maxBatchSize: 500,
            maxWaitTimeInSeconds: 0.3,
            skipParsingBodyAsJson: true,
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
