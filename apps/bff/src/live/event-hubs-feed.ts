import {
  EventHubConsumerClient,
  latestEventPosition,
  type ReceivedEventData,
  type Subscription,
} from '@azure/event-hubs';
import type { TokenCredential } from '@azure/identity';
import {
  twinKey,
  type FeedStatus,
  type LiveEvent,
  type Twin,
  type TwinSectionName,
} from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Logger } from '../log.ts';
import type { EventBroker, Gap, ResumeSource } from './broker.ts';
import type { ChangeFeed, PollingFeed } from './polling-feed.ts';
import { encodeCursor, type EventSourcePosition } from './cursor.ts';

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
  /** Without a sign of life from the endpoint for this long, polling takes over. */
  staleAfterMs?: number;
  /**
   * A write through this BFF whose twin change event has not arrived after this long means
   * the hub does not route twin changes to the endpoint: polling takes over, with the reason.
   */
  echoTimeoutMs?: number;
}

/** A routed message reduced to what the live view needs. */
interface Change {
  position: EventSourcePosition;
  source: string;
  opType: string;
  deviceId: string;
  moduleId?: string;
  version?: number;
  sections: TwinSectionName[];
}

function changeOf(event: ReceivedEventData, partition: number): Change | undefined {
  const system = event.systemProperties ?? {};
  const app = event.properties ?? {};
  const source = String(system['iothub-message-source'] ?? '');
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
    source,
    opType: String(app['opType'] ?? ''),
    deviceId,
    ...(typeof moduleId === 'string' ? { moduleId } : {}),
    ...(typeof body.version === 'number' ? { version: body.version } : {}),
    sections,
  };
}

const CONNECTING = 'connecting…';

/** A resuming tab is caught up from the source with at most this many events … */
const CATCH_UP_EVENTS = 20_000;
/** … and this many twin reads; beyond that it is told to refetch instead. */
const CATCH_UP_TWINS = 200;

/**
 * Live twin changes the way IoT Hub delivers them: twin change and lifecycle events routed
 * to an Event Hubs-compatible endpoint, read by one consumer per BFF process in its own
 * consumer group from the latest event. A change to a twin some tab watches is fetched once
 * (for its new etag) and fanned out; the rest cost nothing. SSE ids are the consumer's
 * position per partition, so a tab resumes after a restart or on another replica. When the
 * endpoint goes quiet or fails, polling takes over and the console says so.
 */
export class EventHubsFeed implements ChangeFeed, ResumeSource {
  private client: EventHubConsumerClient | undefined;
  partitionCount = 0;
  /** Per partition: from which sequence number on this process has published everything. */
  private readonly covered = new Map<number, number>();
  private subscription: Subscription | undefined;
  private positions: number[] = [];
  private lastAlive = 0;
  private healthy = false;
  private message: string | undefined = CONNECTING;
  private watchdog: NodeJS.Timeout | undefined;
  /** Newest version published per twin, so the hub's echo of our own write is not repeated. */
  private readonly published = new Map<string, number>();
  /** Our own writes whose twin change event should come back through the endpoint. */
  private readonly awaitingEcho = new Map<string, { version: number; deadline: number }>();
  /** Twin change events do not reach the endpoint (no route): stay on polling. */
  private routeMissing = false;

  constructor(
    private readonly hub: HubAdapter,
    private readonly broker: () => EventBroker,
    private readonly logger: Logger,
    private readonly settings: EventHubsSettings,
    /** Runs while the endpoint is unhealthy; also publishes this BFF's own writes. */
    private readonly fallback: PollingFeed,
  ) {}

  status(): FeedStatus {
    if (this.healthy) return { source: 'event-hubs', healthy: true };
    return {
      source: 'polling',
      healthy: this.fallback.status().healthy,
      message: `Event Hubs endpoint unavailable (${this.message ?? 'no answer'}); polling instead`,
    };
  }

  twinWritten(twin: Twin, sections: TwinSectionName[]): void {
    const key = twinKey(twin);
    this.remember(key, twin.version);
    // Its twin change event should come back through the endpoint; if not, there is no route.
    if (this.healthy && !this.awaitingEcho.has(key)) {
      this.awaitingEcho.set(key, {
        version: twin.version,
        deadline: Date.now() + (this.settings.echoTimeoutMs ?? 15_000),
      });
    }
    this.fallback.twinWritten(twin, sections);
  }

  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void {
    this.fallback.identityChanged(change, deviceId, moduleId);
  }

  /** Remembers the newest version sent per twin, forgetting all past a bound. */
  private remember(key: string, version: number): void {
    if (this.published.size > 50_000) this.published.clear();
    this.published.set(key, Math.max(version, this.published.get(key) ?? 0));
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

  private setHealth(healthy: boolean, message?: string): void {
    if (healthy === this.healthy && message === this.message) return;
    const was = this.healthy;
    this.healthy = healthy;
    this.message = message;
    if (healthy && !was) {
      this.fallback.stop();
      this.logger.info('live changes now come from the event endpoint');
    } else if (!healthy && was) {
      this.logger.warn('event endpoint unavailable; polling instead', { message });
    }
    if (!healthy) this.fallback.start();
    this.broker().publish({ type: 'feed', feed: this.status() });
  }

  start(): void {
    if (this.subscription) return;
    this.fallback.start();
    this.client = this.newClient();
    const staleAfter = this.settings.staleAfterMs ?? 5000;
    this.subscription = this.client.subscribe(
      {
        processInitialize: async (context) => {
          const p = Number(context.partitionId);
          this.positions[p] ??= -1;
        },
        processEvents: async (events, context) => {
          this.lastAlive = Date.now();
          if (!this.healthy && !this.routeMissing) this.setHealth(true);
          const partition = Number(context.partitionId);
          if (!this.covered.has(partition)) await this.markCovered(partition, events[0]);
          await this.handle(events, partition);
        },
        processError: async (error) => {
          this.logger.warn('event endpoint error', { message: (error as Error).message });
          this.setHealth(false, (error as Error).message);
        },
      },
      // Empty batches every half second are the endpoint's sign of life.
      { startPosition: latestEventPosition, maxWaitTimeInSeconds: 0.5, maxBatchSize: 200 },
    );
    const startedAt = Date.now();
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        if (this.healthy && now - this.lastAlive > staleAfter)
          this.setHealth(false, 'no answer from the event endpoint');
        if (!this.healthy && this.lastAlive === 0 && this.message === CONNECTING)
          if (now - startedAt > staleAfter * 2)
            this.setHealth(
              false,
              'it has not answered: check its address, credentials and consumer group',
            );
        for (const [key, echo] of this.awaitingEcho) {
          if (echo.deadline > now) continue;
          this.awaitingEcho.clear();
          this.routeMissing = true;
          this.logger.warn('twin change events do not reach the event endpoint', { twin: key });
          this.setHealth(
            false,
            'twin change events do not arrive: route the TwinChangeEvents source to this endpoint',
          );
          break;
        }
      },
      Math.min(1000, this.settings.echoTimeoutMs ?? 1000),
    );
    this.watchdog.unref();
  }

  stop(): void {
    clearInterval(this.watchdog);
    this.fallback.stop();
    const subscription = this.subscription;
    const client = this.client;
    this.subscription = undefined;
    this.client = undefined;
    void subscription?.close().finally(() => client?.close());
  }

  /**
   * Once a partition's receiver is live, everything after the partition's newest event (as
   * of now) reaches this process; earlier events are for catch-up from the source.
   */
  private async markCovered(
    partition: number,
    first: ReceivedEventData | undefined,
  ): Promise<void> {
    try {
      const properties = await this.client!.getPartitionProperties(String(partition));
      const after = first
        ? Math.min(first.sequenceNumber - 1, properties.lastEnqueuedSequenceNumber)
        : properties.lastEnqueuedSequenceNumber;
      this.covered.set(partition, after);
      this.partitionCount = Math.max(this.partitionCount, partition + 1);
    } catch (error) {
      this.logger.warn('could not read a partition position', {
        message: (error as Error).message,
      });
    }
  }

  coveredAfter(partition: number): number | undefined {
    return this.covered.get(partition);
  }

  /** Reads what a resuming tab missed back from the event source. */
  async catchUp(
    gaps: Gap[],
    from: number[],
  ): Promise<{ entries: { event: LiveEvent; id: string }[]; complete: boolean }> {
    const client = this.newClient();
    let complete = true;
    const changes: Change[] = [];
    try {
      for (const gap of gaps) {
        const properties = await client.getPartitionProperties(String(gap.partition));
        const last = gap.upTo ?? properties.lastEnqueuedSequenceNumber;
        if (properties.isEmpty || last <= gap.after) continue;
        // Past retention: those changes are gone; the tab must refetch.
        if (gap.after < properties.beginningSequenceNumber - 1) complete = false;
        const read = await this.readRange(
          client,
          gap.partition,
          Math.max(gap.after, properties.beginningSequenceNumber - 1),
          last,
        );
        if (!read.complete) complete = false;
        for (const event of read.events) {
          const change = changeOf(event, gap.partition);
          if (change) changes.push(change);
        }
      }
    } finally {
      await client.close().catch(() => undefined);
    }
    const twinChanges = new Map<string, Change>();
    for (const change of changes)
      if (change.source === 'twinChangeEvents') twinChanges.set(twinKey(change), change);
    if (twinChanges.size > CATCH_UP_TWINS) return { entries: [], complete: false };
    const twins = new Map<string, Twin>();
    await Promise.all(
      [...twinChanges.entries()].map(async ([key, change]) => {
        try {
          twins.set(key, await this.hub.getTwin(change.deviceId, change.moduleId));
        } catch {
          complete = false;
        }
      }),
    );
    const cursor = [...from];
    const entries: { event: LiveEvent; id: string }[] = [];
    for (const change of changes) {
      cursor[change.position.partition] = change.position.sequenceNumber;
      if (change.source === 'deviceLifecycleEvents') {
        entries.push({
          id: encodeCursor(cursor),
          event: {
            type: 'identity',
            change: change.opType.startsWith('delete') ? 'deleted' : 'created',
            deviceId: change.deviceId,
            ...(change.moduleId ? { moduleId: change.moduleId } : {}),
          },
        });
      } else if (
        change.source === 'twinChangeEvents' &&
        twinChanges.get(twinKey(change)) === change
      ) {
        const twin = twins.get(twinKey(change));
        if (!twin) continue;
        entries.push({
          id: encodeCursor(cursor),
          event: {
            type: 'twin',
            deviceId: twin.deviceId,
            ...(twin.moduleId ? { moduleId: twin.moduleId } : {}),
            version: twin.version,
            sections: change.sections,
            twin,
            origin: 'hub',
          },
        });
      }
    }
    return { entries, complete };
  }

  /** Events of one partition after `after` up to `last` (inclusive), with a time and size bound. */
  private readRange(
    client: EventHubConsumerClient,
    partition: number,
    after: number,
    last: number,
  ): Promise<{ events: ReceivedEventData[]; complete: boolean }> {
    return new Promise((resolve) => {
      const events: ReceivedEventData[] = [];
      let done = false;
      const finish = (complete: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        void subscription.close();
        resolve({ events, complete });
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
              if (events.length >= CATCH_UP_EVENTS) return finish(false);
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
  }

  private async handle(events: ReceivedEventData[], partition: number): Promise<void> {
    const watched = new Set(this.broker().watchedTwins().map(twinKey));
    const outgoing: { event: LiveEvent; position: EventSourcePosition }[] = [];
    const twins = new Map<string, Change>();
    for (const event of events) {
      const change = changeOf(event, partition);
      if (!change) continue;
      if (change.source === 'deviceLifecycleEvents') {
        outgoing.push({
          event: {
            type: 'identity',
            change: change.opType.startsWith('delete') ? 'deleted' : 'created',
            deviceId: change.deviceId,
            ...(change.moduleId ? { moduleId: change.moduleId } : {}),
          },
          position: change.position,
        });
      } else if (change.source === 'twinChangeEvents') {
        const key = twinKey(change);
        const echo = this.awaitingEcho.get(key);
        if (echo && (change.version ?? Infinity) >= echo.version) this.awaitingEcho.delete(key);
        if (this.routeMissing) {
          this.routeMissing = false;
          this.setHealth(true);
        }
        // Nobody looks at this twin: nothing to fetch, nothing to send.
        if (!watched.has(key)) continue;
        const earlier = twins.get(key);
        twins.set(key, {
          ...change,
          sections: [...new Set([...(earlier?.sections ?? []), ...change.sections])],
        });
      }
    }
    // One read per changed twin per batch, for its new etag (the event does not carry it).
    const read = await Promise.all(
      [...twins.values()].map(async (change) => {
        try {
          return { change, twin: await this.hub.getTwin(change.deviceId, change.moduleId) };
        } catch (error) {
          this.logger.warn('could not read a changed twin', {
            deviceId: change.deviceId,
            message: (error as Error).message,
          });
          return undefined;
        }
      }),
    );
    for (const entry of read) {
      if (!entry) continue;
      const { change, twin } = entry;
      const key = twinKey(twin);
      if (twin.version <= (this.published.get(key) ?? -1)) continue;
      this.remember(key, twin.version);
      outgoing.push({
        event: {
          type: 'twin',
          deviceId: twin.deviceId,
          ...(twin.moduleId ? { moduleId: twin.moduleId } : {}),
          version: twin.version,
          sections: change.sections,
          twin,
          origin: 'hub',
        },
        position: change.position,
      });
    }
    // In partition order, each with the position it reached, so a cursor never skips one.
    outgoing.sort((a, b) => a.position.sequenceNumber - b.position.sequenceNumber);
    for (const { event, position } of outgoing) {
      this.positions[partition] = position.sequenceNumber;
      this.publish(event, position);
    }
    const last = events.at(-1);
    if (last) this.positions[partition] = last.sequenceNumber;
  }

  private publish(event: LiveEvent, position: EventSourcePosition): void {
    this.broker().publish(event, { position, cursor: encodeCursor(this.positions) });
  }
}
