import {
  twinKey,
  type FeedStatus,
  type LiveEvent,
  type Twin,
  type TwinSectionName,
} from '@twinscope/contract';
import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Logger } from '../log.ts';
import type { EventBroker, Gap, ResumeSource } from './broker.ts';
import { encodeCursor, type EventSourcePosition } from './cursor.ts';
import { identityEvent, twinEvent } from './live-events.ts';
import type { ChangeFeed, PollingFeed } from './polling-feed.ts';

export interface EventFeedSettings {
  /**
   * A write through this BFF whose twin change event has not arrived after this long means
   * the hub does not route twin changes to the endpoint: polling takes over, with the reason.
   */
  echoTimeoutMs?: number;
}

/** A lifecycle event as the console's identity event. */
const identityOf = (change: RoutedChange): LiveEvent =>
  identityEvent(
    change.opType.startsWith('delete') ? 'deleted' : 'created',
    change.deviceId,
    change.moduleId,
  );

const CONNECTING = 'connecting…';
/** Without a batch from every partition for this long, polling takes over. */
const STALE_AFTER_MS = 5000;

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
  private partitionTotal: number | undefined;
  private counting = false;
  /** Per partition: from which sequence number on this process has published everything. */
  private readonly covered = new Map<number, number>();
  private subscription: { close(): Promise<void> } | undefined;
  private positions: number[] = [];
  /** When each partition's receiver last delivered a batch (empty ones too). */
  private readonly alive = new Map<number, number>();
  private lastErrorAt = 0;
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
    private readonly source: EventSource,
    private readonly settings: EventFeedSettings,
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

  /** Asks the source how many partitions it has; again later if it cannot say yet. */
  private countPartitions(): void {
    if (this.counting) return;
    this.counting = true;
    this.source
      .partitionCount()
      .then(
        (count) => {
          this.partitionTotal = count;
        },
        (error: Error) =>
          this.logger.warn('could not count the partitions', { message: error.message }),
      )
      .finally(() => (this.counting = false));
  }

  private allPartitionsAlive(): boolean {
    if (this.partitionTotal === undefined) {
      this.countPartitions();
      return false;
    }
    for (let p = 0; p < this.partitionTotal; p++) {
      if ((this.alive.get(p) ?? 0) <= this.lastErrorAt) return false;
    }
    return true;
  }

  start(): void {
    if (this.subscription) return;
    this.countPartitions();
    this.fallback.start();
    this.subscription = this.source.subscribeLatest({
      batch: async (partition, changes, firstSequence, lastSequence) => {
        this.alive.set(partition, Date.now());
        // Healthy only once every partition reads again: one live receiver is not enough.
        if (!this.healthy && !this.routeMissing && this.allPartitionsAlive()) this.setHealth(true);
        this.positions[partition] ??= -1;
        if (!this.covered.has(partition)) await this.markCovered(partition, firstSequence);
        await this.handle(changes, partition, lastSequence);
      },
      error: (error) => {
        this.lastErrorAt = Date.now();
        this.logger.warn('event endpoint error', { message: error.message });
        this.setHealth(false, error.message);
      },
    });
    const startedAt = Date.now();
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        if (this.healthy && [...this.alive.values()].some((at) => now - at > STALE_AFTER_MS))
          this.setHealth(false, 'no answer from the event endpoint');
        if (!this.healthy && this.alive.size === 0 && this.message === CONNECTING)
          if (now - startedAt > STALE_AFTER_MS * 2)
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
    this.subscription = undefined;
    void subscription?.close().finally(() => this.source.close());
  }

  /**
   * Once a partition's receiver is live, everything after the partition's newest event (as
   * of now) reaches this process; earlier events are for catch-up from the source.
   */
  private async markCovered(partition: number, firstSequence: number | undefined): Promise<void> {
    try {
      const { last } = await this.source.partition(partition);
      this.covered.set(
        partition,
        firstSequence === undefined ? last : Math.min(firstSequence - 1, last),
      );
    } catch (error) {
      this.logger.warn('could not read a partition position', {
        message: (error as Error).message,
      });
    }
  }

  get partitionCount(): number {
    return this.partitionTotal ?? 0;
  }

  coveredAfter(partition: number): number | undefined {
    return this.covered.get(partition);
  }

  /** Reads what a resuming tab missed back from the event source. */
  async catchUp(
    gaps: Gap[],
    from: number[],
  ): Promise<{ entries: { event: LiveEvent; id: string }[]; complete: boolean }> {
    let complete = true;
    const changes: RoutedChange[] = [];
    for (const gap of gaps) {
      const partition = await this.source.partition(gap.partition);
      const last = gap.upTo ?? partition.last;
      if (partition.isEmpty || last <= gap.after) continue;
      // Past retention: those changes are gone; the tab must refetch.
      if (gap.after < partition.begin - 1) complete = false;
      const read = await this.source.read(
        gap.partition,
        Math.max(gap.after, partition.begin - 1),
        last,
        CATCH_UP_EVENTS,
      );
      if (!read.complete) complete = false;
      changes.push(...read.changes);
    }
    const twinChanges = new Map<string, RoutedChange>();
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
        entries.push({ id: encodeCursor(cursor), event: identityOf(change) });
      } else if (
        change.source === 'twinChangeEvents' &&
        twinChanges.get(twinKey(change)) === change
      ) {
        const twin = twins.get(twinKey(change));
        if (!twin) continue;
        entries.push({ id: encodeCursor(cursor), event: twinEvent(twin, change.sections, 'hub') });
      }
    }
    return { entries, complete };
  }

  private async handle(
    changes: RoutedChange[],
    partition: number,
    lastSequence: number | undefined,
  ): Promise<void> {
    const watched = new Set(this.broker().watchedTwins().map(twinKey));
    const outgoing: { event: LiveEvent; position: EventSourcePosition }[] = [];
    const twins = new Map<string, RoutedChange>();
    for (const change of changes) {
      if (change.source === 'deviceLifecycleEvents') {
        outgoing.push({ event: identityOf(change), position: change.position });
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
      outgoing.push({ event: twinEvent(twin, change.sections, 'hub'), position: change.position });
    }
    // In partition order, each with the position it reached, so a cursor never skips one.
    outgoing.sort((a, b) => a.position.sequenceNumber - b.position.sequenceNumber);
    for (const { event, position } of outgoing) {
      this.positions[partition] = position.sequenceNumber;
      this.publish(event, position);
    }
    if (lastSequence !== undefined) this.positions[partition] = lastSequence;
  }

  private publish(event: LiveEvent, position: EventSourcePosition): void {
    this.broker().publish(event, { position, cursor: encodeCursor(this.positions) });
  }
}
