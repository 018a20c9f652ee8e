import {
  type AuditEntry,
  type FeedStatus,
  twinKey,
  type LiveEvent,
  type MessageFeedbackEvent,
  type Twin,
  type TwinSectionName,
} from '@twinscope/contract';
import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Logger } from '../log.ts';
import type { EventBroker } from './broker.ts';
import { identityOf, type CatchUp } from './catch-up.ts';
import { encodeCursor, type EventSourcePosition } from './cursor.ts';
import {
  endpointTurned,
  feedStatus,
  initialHealth,
  pollingWanted,
  reduceHealth,
  type HealthEvent,
  type HealthSettings,
  type HealthState,
} from './health.ts';
import { connectionEvent, identityEvent, twinEvent } from './live-events.ts';
import type { Poller } from './poller.ts';
import type { StoredVersion, TwinHistory } from '../history/twin-history.ts';
import { telemetryEvent } from './telemetry.ts';

/** The hub's Event Hubs-compatible endpoint (or a custom Event Hub) as an event source. */
export interface EndpointSource {
  source: EventSource;
  /** Reads back what resuming tabs missed; the live hub records what it has covered. */
  catchUp: CatchUp;
  /** An own write whose twin change event has not come back after this long: no route. */
  echoTimeoutMs: number;
  /** A partition silent this long means the endpoint is down (5 s unless told). */
  staleAfterMs?: number;
}

export interface LiveHubOptions {
  hub: HubAdapter;
  /** Where events go: the broker that fans them out to tabs. */
  broker: Pick<
    EventBroker,
    | 'publish'
    | 'feed'
    | 'watchedTwins'
    | 'isWatched'
    | 'wantsTelemetry'
    | 'publishTelemetry'
    | 'publishRollout'
    | 'publishFleetChanges'
  >;
  logger: Logger;
  poller: Poller;
  pollIntervalMs: number;
  endpoint?: EndpointSource;
  /** Where every twin change read from the endpoint is kept (the twins' history). */
  history?: Pick<TwinHistory, 'accept' | 'onStored'>;
  /** What is done from Twinscope, as recorded on any replica (the audit trail). */
  audit?: { onRecord(listener: (entry: AuditEntry) => void): () => void };
  /** That a rollout changed, on any replica. */
  rollouts?: { onChange(listener: (id: string) => void): () => void };
  /** A device-to-cloud message read from the endpoint, by when the hub enqueued it (the overview counts them). */
  telemetryRead?: (count: number, enqueuedAt?: number) => void;
}

/** How often, at most, the tabs showing the fleet's activity hear that changes were stored. */
const FLEET_CHANGES_MS = 1000;

/** Newest versions remembered per twin, so an echo is not published twice. */
const REMEMBERED_TWINS = 50_000;

/**
 * The one place live events are made. Events flow one way: the event sources (the Event
 * Hubs consumer, the poller) and the other inputs (the services' own writes, the twins'
 * history, the audit trail, rollout notices) → this hub → the broker → tabs. It owns where changes come from
 * (a pure state machine in `health.ts`: it only does what the state says), publishes this
 * BFF's own writes at once, and records from which position on each partition it has
 * published everything (for catch-up). A change to a twin some tab watches is fetched once
 * (the event does not carry its etag); the rest cost nothing.
 */
export class LiveHub {
  private health: HealthState;
  private readonly settings: HealthSettings;
  /** Newest version published per twin. */
  private readonly published = new Map<string, number>();
  /** Per partition, the newest position published (the SSE id of the next event). */
  private readonly positions: number[] = [];
  private subscription: { close(): Promise<void> } | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private countingPartitions = false;
  private running = false;
  /** Stops hearing the inputs that are not event sources (history, audit, rollouts). */
  private readonly unhear: (() => void)[] = [];
  /** Stored twin changes the fleet's activity tabs have not heard of yet. */
  private unannounced = 0;
  private fleetTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LiveHubOptions) {
    this.settings = {
      staleAfterMs: options.endpoint?.staleAfterMs ?? 5000,
      echoTimeoutMs: options.endpoint?.echoTimeoutMs ?? 15_000,
    };
    this.health = initialHealth(options.endpoint !== undefined, Date.now());
    options.broker.feed(feedStatus(this.health));
  }

  /** Writes through this BFF sent but not yet answered, per twin. */
  private readonly writing = new Map<
    string,
    { count: number; settled: Promise<void>; settle(): void }
  >();

  /**
   * A write through this BFF is being sent. The endpoint may bring its change before the
   * hub's answer comes back (a busy BFF, a quick route): that change waits for the answer,
   * so it is known as ours and neither sent twice nor counted as a missing echo.
   */
  twinWriting(deviceId: string, moduleId: string | undefined): () => void {
    const key = twinKey(moduleId === undefined ? { deviceId } : { deviceId, moduleId });
    let entry = this.writing.get(key);
    if (!entry) {
      let settle = () => {};
      const settled = new Promise<void>((resolve) => (settle = resolve));
      entry = { count: 0, settled, settle };
      this.writing.set(key, entry);
    }
    const current = entry;
    current.count += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.count -= 1;
      if (current.count > 0) return;
      this.writing.delete(key);
      current.settle();
    };
  }

  /** Until the writes in flight to these twins are answered (at most the echo timeout). */
  private async ownWritesSettled(keys: string[]): Promise<void> {
    const pending = keys.flatMap((key) => this.writing.get(key)?.settled ?? []);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.settings.echoTimeoutMs);
      timer.unref();
    });
    await Promise.race([Promise.all(pending), bound]);
    clearTimeout(timer);
  }

  /** A write made through this BFF: published at once, with who made it. */
  twinWritten(twin: Twin, sections: TwinSectionName[]): void {
    const key = twinKey(twin);
    this.remember(key, twin.version);
    this.options.poller.saw(twin);
    this.options.broker.publish(twinEvent(twin, sections, 'console'));
    this.dispatch({ type: 'own-write', key, version: twin.version, at: Date.now() });
  }

  identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string): void {
    this.options.broker.publish(identityEvent(change, deviceId, moduleId));
  }

  /** Something done from Twinscope, recorded in the audit trail: to the tabs watching its target. */
  activity(entry: AuditEntry): void {
    // A bulk change of a thousand devices nobody is looking at must not flush the replay buffer.
    if (!this.options.broker.isWatched(twinKey(entry.target), true)) return;
    this.options.broker.publish({ type: 'activity', entry });
  }

  /** The hub's feedback on a cloud-to-device message: to the tabs watching its device. */
  messageFeedback(event: MessageFeedbackEvent): void {
    this.options.broker.publish(event);
  }

  /** The twins' history stored these versions: to the tabs watching them, and the fleet's activity. */
  versionsStored(stored: StoredVersion[]): void {
    for (const version of stored) {
      if (!this.options.broker.isWatched(twinKey(version))) continue;
      this.options.broker.publish({ type: 'version-stored', ...version });
    }
    this.unannounced += stored.length;
    this.fleetTimer ??= setTimeout(() => {
      this.fleetTimer = undefined;
      const count = this.unannounced;
      this.unannounced = 0;
      if (count > 0) this.options.broker.publishFleetChanges(count);
    }, FLEET_CHANGES_MS);
    this.fleetTimer.unref();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { history, audit, rollouts } = this.options;
    if (history) this.unhear.push(history.onStored((stored) => this.versionsStored(stored)));
    if (audit) this.unhear.push(audit.onRecord((entry) => this.activity(entry)));
    if (rollouts)
      this.unhear.push(rollouts.onChange((id) => this.options.broker.publishRollout(id)));
    const endpoint = this.options.endpoint;
    if (endpoint) {
      this.countPartitions(endpoint);
      this.subscription = endpoint.source.subscribeLatest({
        batch: (partition, changes, first, last, lastEnqueued) => {
          this.noteLag(partition, last, lastEnqueued);
          return this.onBatch(endpoint, partition, changes, first, last);
        },
        error: (error) => {
          this.options.logger.warn('event endpoint error', { message: error.message });
          this.dispatch({ type: 'source-error', at: Date.now(), message: error.message });
        },
      });
      this.ticker = setInterval(
        () => {
          if (this.health.partitions === undefined) this.countPartitions(endpoint);
          this.dispatch({ type: 'tick', at: Date.now() });
        },
        Math.min(1000, this.settings.echoTimeoutMs),
      );
      this.ticker.unref();
    }
    this.steerPolling();
  }

  /** Where changes come from now, and whether that works (what `/readyz` reads). */
  feed(): FeedStatus {
    return feedStatus(this.health);
  }

  stop(): void {
    this.running = false;
    for (const unhear of this.unhear.splice(0)) unhear();
    clearTimeout(this.fleetTimer);
    clearInterval(this.ticker);
    this.steerPolling();
    const subscription = this.subscription;
    this.subscription = undefined;
    void subscription?.close().finally(() => this.options.endpoint?.source.close());
  }

  /** One polling round now; returns the hub queries it spent (the timer calls it too). */
  async pollNow(): Promise<number> {
    const round = await this.options.poller.round(this.options.broker.watchedTwins());
    if (round.error) {
      this.options.logger.warn('twin polling failed', { message: round.error });
      this.dispatch({ type: 'poll-failed', message: round.error });
    } else if (round.queries > 0) {
      this.dispatch({ type: 'poll-ok' });
    }
    for (const { twin, sections } of round.observations) {
      const key = twinKey(twin);
      // The endpoint may have published a newer version already.
      if (twin.version < (this.published.get(key) ?? -1)) continue;
      this.remember(key, twin.version);
      this.options.broker.publish(twinEvent(twin, sections, 'hub'));
    }
    return round.queries;
  }

  private dispatch(event: HealthEvent): void {
    const before = this.health;
    this.health = reduceHealth(before, event, this.settings);
    if (this.health === before) return;
    const turned = endpointTurned(before, this.health);
    if (turned === 'live')
      this.options.logger.info('live changes now come from the event endpoint');
    if (turned === 'down')
      this.options.logger.warn('event endpoint unavailable; polling instead', {
        message: this.health.reason,
      });
    this.options.broker.feed(feedStatus(this.health));
    this.steerPolling();
  }

  /** Runs the poller while the state wants it, and only then. */
  private steerPolling(): void {
    const wanted = this.running && pollingWanted(this.health);
    if (wanted && !this.pollTimer) {
      this.pollTimer = setInterval(() => void this.pollNow(), this.options.pollIntervalMs);
      this.pollTimer.unref();
    } else if (!wanted && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /** Asks the source how many partitions it has; again on a later tick if it cannot say yet. */
  private countPartitions(endpoint: EndpointSource): void {
    if (this.countingPartitions) return;
    this.countingPartitions = true;
    endpoint.source
      .partitionCount()
      .then(
        (count) => {
          endpoint.catchUp.setPartitionCount(count);
          this.dispatch({ type: 'partitions', count });
        },
        (error: Error) =>
          this.options.logger.warn('could not count the partitions', { message: error.message }),
      )
      .finally(() => (this.countingPartitions = false));
  }

  /** Per partition: the last event read, and the last the endpoint holds. */
  private readonly reading = new Map<number, { read?: number; enqueued: number }>();

  private noteLag(partition: number, last: number | undefined, lastEnqueued: number | undefined) {
    if (lastEnqueued === undefined) return;
    const read = last ?? this.reading.get(partition)?.read;
    this.reading.set(partition, {
      ...(read !== undefined ? { read } : {}),
      enqueued: lastEnqueued,
    });
  }

  /**
   * How many events each partition holds that the feed has not read yet (as of its last
   * batch; an empty batch means caught up). Only partitions whose endpoint reports it.
   */
  consumerLag(): [partition: number, lag: number][] {
    return [...this.reading].map(([partition, { read, enqueued }]) => [
      partition,
      Math.max(0, enqueued - (read ?? enqueued)),
    ]);
  }

  private async onBatch(
    endpoint: EndpointSource,
    partition: number,
    changes: RoutedChange[],
    firstSequence: number | undefined,
    lastSequence: number | undefined,
  ): Promise<void> {
    this.dispatch({ type: 'batch', partition, at: Date.now() });
    this.options.history?.accept(partition, changes, firstSequence, lastSequence);
    this.positions[partition] ??= -1;
    if (!endpoint.catchUp.isCovered(partition))
      await this.markCovered(endpoint, partition, firstSequence);
    await this.handle(changes, partition, lastSequence);
  }

  /**
   * Once a partition's receiver is live, everything after the partition's newest event (as
   * of now) reaches this process; earlier events are for catch-up from the source.
   */
  private async markCovered(
    endpoint: EndpointSource,
    partition: number,
    firstSequence: number | undefined,
  ): Promise<void> {
    try {
      const { last } = await endpoint.source.partition(partition);
      endpoint.catchUp.cover(
        partition,
        firstSequence === undefined ? last : Math.min(firstSequence - 1, last),
      );
    } catch (error) {
      this.options.logger.warn('could not read a partition position', {
        message: (error as Error).message,
      });
    }
  }

  private async handle(
    changes: RoutedChange[],
    partition: number,
    lastSequence: number | undefined,
  ): Promise<void> {
    await this.ownWritesSettled(
      changes.flatMap((change) => (change.source === 'twinChangeEvents' ? [twinKey(change)] : [])),
    );
    const watched = new Set(this.options.broker.watchedTwins().map(twinKey));
    const outgoing: { event: LiveEvent; position: EventSourcePosition }[] = [];
    const twins = new Map<string, RoutedChange>();
    for (const change of changes) {
      if (change.source === 'Telemetry') {
        // Counted in the minute the hub took it: a backlog read after a restart is not a spike.
        this.options.telemetryRead?.(1, change.enqueuedTime);
        // Telemetry goes straight to the tabs showing it: not replayed, not positioned.
        if (this.options.broker.wantsTelemetry(change.deviceId, change.moduleId)) {
          const event = telemetryEvent(change);
          if (event) this.options.broker.publishTelemetry(event);
        }
      } else if (change.source === 'deviceLifecycleEvents') {
        outgoing.push({ event: identityOf(change), position: change.position });
      } else if (change.source === 'deviceConnectionStateEvents') {
        const event = connectionEvent(
          change.opType,
          change.deviceId,
          change.moduleId,
          change.enqueuedTime,
        );
        if (event) outgoing.push({ event, position: change.position });
      } else if (change.source === 'twinChangeEvents') {
        const key = twinKey(change);
        this.dispatch({ type: 'twin-change', key, version: change.version });
        // Nobody looks at this twin: nothing to fetch, nothing to send.
        if (!watched.has(key)) continue;
        const earlier = twins.get(key);
        twins.set(key, {
          ...change,
          sections: [...new Set([...(earlier?.sections ?? []), ...change.sections])],
        });
      }
    }
    // One read per changed twin per batch, for its new etag.
    const read = await Promise.all(
      [...twins.values()].map(async (change) => {
        try {
          return { change, twin: await this.options.hub.getTwin(change.deviceId, change.moduleId) };
        } catch (error) {
          this.options.logger.warn('could not read a changed twin', {
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
      outgoing.push({ event: twinEvent(twin, change.sections, 'hub'), position: change.position });
    }
    // In partition order, each with the position it reached, so a cursor never skips one.
    outgoing.sort((a, b) => a.position.sequenceNumber - b.position.sequenceNumber);
    for (const { event, position } of outgoing) {
      this.positions[partition] = position.sequenceNumber;
      this.options.broker.publish(event, { position, cursor: encodeCursor(this.positions) });
    }
    if (lastSequence !== undefined) this.positions[partition] = lastSequence;
  }

  /** Remembers the newest version sent per twin, forgetting all past a bound. */
  private remember(key: string, version: number): void {
    if (this.published.size > REMEMBERED_TWINS) this.published.clear();
    this.published.set(key, Math.max(version, this.published.get(key) ?? 0));
  }
}
