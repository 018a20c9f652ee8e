import {
  LiveEventSchema,
  TelemetryWatchResponseSchema,
  telemetryTargetKey,
  twinKey,
  type DeviceFilterRequest,
  type FeedStatus,
  type LiveEvent,
  type TelemetryTarget,
  type TelemetryWatchResponse,
  type TwinRef,
  LIVE_EVENT_TYPES,
} from '@twinscope/contract';
import { apiRequest, apiSend } from '../../lib/api-client.ts';
import { apiPaths } from '../../lib/api-paths.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LiveSnapshot {
  state: LiveState;
  feed?: FeedStatus;
}

/**
 * One EventSource per tab, multiplexed. Pages register the twins they show; the client
 * tells the BFF (debounced) so its change feed watches them. The browser reconnects with
 * Last-Event-ID by itself; a stream the server ends for good is reported as closed.
 */
export class LiveClient {
  private source: EventSource | undefined;
  private streamId: string | undefined;
  private snapshot: LiveSnapshot = { state: 'connecting' };
  private readonly snapshotListeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: LiveEvent) => void>();
  private readonly watched: Registrations<TwinRef> = new Map();
  /** Components showing a fleet-wide feed live: the audit trail, the twin changes stored. */
  private readonly fleetWatchers = { audit: 0, fleet: 0, rollouts: 0 };
  /** Told each time the BFF confirms the fleet-wide feeds (after a load, after a reconnect). */
  private readonly fleetWatching = new Set<() => void>();
  private readonly telemetry: Registrations<TelemetryTarget> = new Map();
  /** The device list's filter whose devices' telemetry is shown (one list per tab). */
  private telemetryFilter:
    | { filter: DeviceFilterRequest; resolved(answer: TelemetryWatchResponse | Error): void }
    | undefined;
  private watchTimer: ReturnType<typeof setTimeout> | undefined;
  private telemetryTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;

  constructor(
    private readonly url = apiPaths.events,
    /** After the BFF refused a stream (too many tabs, a restart), when to try again. */
    private readonly reconnectAfterMs = 30_000,
  ) {}

  connect(): void {
    if (this.source) return;
    this.ended = false;
    clearTimeout(this.reconnectTimer);
    const source = new EventSource(this.url);
    this.source = source;
    const onMessage = (message: MessageEvent<string>) => {
      let parsed: LiveEvent;
      try {
        parsed = LiveEventSchema.parse(JSON.parse(message.data));
      } catch {
        return;
      }
      if (parsed.type === 'hello') {
        this.streamId = parsed.streamId;
        this.setSnapshot({ state: 'live', feed: parsed.feed });
        this.flushWatch(0);
        this.flushTelemetry(0);
      } else if (parsed.type === 'feed') {
        this.setSnapshot({ ...this.snapshot, feed: parsed.feed });
      } else if (parsed.type === 'session-ended') {
        // Reconnecting would only be refused: stop, and let the page send the operator to sign in.
        this.close();
        this.ended = true;
      }
      this.eventListeners.forEach((listener) => listener(parsed));
    };
    for (const type of LIVE_EVENT_TYPES) source.addEventListener(type, onMessage as EventListener);
    source.onerror = () => {
      this.streamId = undefined;
      const closed = source.readyState === EventSource.CLOSED;
      this.setSnapshot({ ...this.snapshot, state: closed ? 'closed' : 'reconnecting' });
      // The browser gives up on a refused stream (a 429 for too many tabs, a BFF restarting);
      // the page tries again later. A session that ended does not (sign-in is shown instead).
      if (closed && this.source === source && !this.ended) {
        this.source = undefined;
        this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectAfterMs);
      }
    };
  }

  close(): void {
    clearTimeout(this.reconnectTimer);
    this.ended = true;
    this.source?.close();
    this.source = undefined;
    this.setSnapshot({ ...this.snapshot, state: 'closed' });
  }

  getSnapshot = (): LiveSnapshot => this.snapshot;

  subscribeSnapshot = (listener: () => void): (() => void) => {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  };

  onEvent(listener: (event: LiveEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Registers twins a component shows; the returned function unregisters them. */
  watch(refs: TwinRef[]): () => void {
    return register(this.watched, refs, twinKey, () => this.flushWatch());
  }

  /**
   * Asks for a fleet-wide feed: every audit record as it is written (`audit`), or word that
   * twin changes were stored (`fleet`), or that rollouts changed (`rollouts`); returns the undo. `watching` is called each time the
   * BFF confirms the feed: what was written before then must be fetched, not heard.
   */
  watchFleet(feed: 'audit' | 'fleet' | 'rollouts', watching?: () => void): () => void {
    this.fleetWatchers[feed]++;
    if (watching) this.fleetWatching.add(watching);
    this.flushWatch();
    return () => {
      this.fleetWatchers[feed]--;
      if (watching) this.fleetWatching.delete(watching);
      this.flushWatch();
    };
  }

  /** Registers devices or modules whose telemetry a component shows; returns the undo. */
  watchTelemetry(targets: TelemetryTarget[]): () => void {
    return register(this.telemetry, targets, telemetryTargetKey, () => this.flushTelemetry());
  }

  /**
   * Shows the telemetry of every device a list filter matches (the BFF resolves it, and
   * says how many devices that is); returns the undo.
   */
  watchTelemetryFilter(
    filter: DeviceFilterRequest,
    resolved: (answer: TelemetryWatchResponse | Error) => void,
  ): () => void {
    const registration = { filter, resolved };
    this.telemetryFilter = registration;
    this.flushTelemetry();
    return () => {
      if (this.telemetryFilter !== registration) return;
      this.telemetryFilter = undefined;
      this.flushTelemetry();
    };
  }

  private flushTelemetry(delayMs = 150): void {
    clearTimeout(this.telemetryTimer);
    this.telemetryTimer = setTimeout(() => {
      if (!this.streamId) return;
      const targets = [...this.telemetry.values()].slice(0, 1000).map((entry) => entry.ref);
      const following = this.telemetryFilter;
      if (!following) {
        apiSend(apiPaths.telemetryWatch(this.streamId), { body: { targets } }).catch(() => {
          // The stream is gone; the reconnect's hello sends the list again.
        });
        return;
      }
      apiRequest(apiPaths.telemetryWatch(this.streamId), TelemetryWatchResponseSchema, {
        method: 'POST',
        body: { targets, filter: following.filter },
      }).then(
        (answer) => following.resolved(answer),
        (error: unknown) => following.resolved(error as Error),
      );
    }, delayMs);
  }

  private flushWatch(delayMs = 150): void {
    clearTimeout(this.watchTimer);
    this.watchTimer = setTimeout(() => {
      if (!this.streamId) return;
      const twins = [...this.watched.values()].slice(0, 1000).map((entry) => entry.ref);
      const feeds = {
        ...(this.fleetWatchers.audit > 0 ? { audit: true } : {}),
        ...(this.fleetWatchers.fleet > 0 ? { fleet: true } : {}),
        ...(this.fleetWatchers.rollouts > 0 ? { rollouts: true } : {}),
      };
      apiSend(apiPaths.watch(this.streamId), { body: { twins, ...feeds } }).then(
        () => {
          if (Object.keys(feeds).length > 0) this.fleetWatching.forEach((watching) => watching());
        },
        () => {
          // The stream is gone; the reconnect's hello sends the watch list again.
        },
      );
    }, delayMs);
  }

  private setSnapshot(next: LiveSnapshot): void {
    this.snapshot = next;
    this.snapshotListeners.forEach((listener) => listener());
  }
}

type Registrations<T> = Map<string, { ref: T; count: number }>;

/** Counts a component's interest in twins (several may share one); the undo counts down. */
function register<T>(
  registrations: Registrations<T>,
  refs: T[],
  keyOf: (ref: T) => string,
  changed: () => void,
): () => void {
  for (const ref of refs) {
    const key = keyOf(ref);
    const entry = registrations.get(key);
    if (entry) entry.count++;
    else registrations.set(key, { ref, count: 1 });
  }
  changed();
  return () => {
    for (const ref of refs) {
      const key = keyOf(ref);
      const entry = registrations.get(key);
      if (entry && --entry.count <= 0) registrations.delete(key);
    }
    changed();
  };
}
