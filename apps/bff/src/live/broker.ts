import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  twinKey,
  type FeedStatus,
  type LiveEvent,
  type TelemetryEvent,
  telemetryTargetKey,
  type TelemetryTarget,
  type TwinRef,
} from '@twinscope/contract';
import { TokenBucket } from '@twinscope/hub-quotas';
import { AppError } from '../core/app-error.ts';
import { decodeCursor, type EventSourcePosition } from './cursor.ts';

/** The watch keys a message from a device or module answers to. */
const messageKeys = (deviceId: string, moduleId: string | undefined) =>
  moduleId === undefined
    ? [deviceId, `${deviceId}/*`]
    : [`${deviceId}/${moduleId}`, `${deviceId}/*`];

/** A range of an event-source partition a tab missed and this process does not hold. */
export interface Gap {
  partition: number;
  /** Missed events come after this sequence number … */
  after: number;
  /** … up to this one (inclusive); none: up to the newest. */
  upTo?: number;
}

/** The event source a resuming tab catches up from, where the replay buffer falls short. */
export interface ResumeSource {
  readonly partitionCount: number;
  /** Everything published from partition p after this sequence number is in the buffer. */
  coveredAfter(partition: number): number | undefined;
  catchUp(
    gaps: Gap[],
    from: number[],
  ): Promise<{ entries: { event: LiveEvent; id: string }[]; complete: boolean }>;
}

interface Stream {
  /** Devices (`dev`) and modules (`dev/mod`) whose telemetry the tab shows. */
  telemetry: Set<string>;
  /** Telemetry this tab may be sent, messages a second; over it, counted as dropped. */
  telemetryBudget: TokenBucket;
  dropped: number;
  id: string;
  /** Who opened it (a sign-in session id, or `local`): only they may change what it watches. */
  owner: string;
  response: ServerResponse;
  watched: Set<string>;
  /** Every activity event (the fleet's audit page). */
  allActivity: boolean;
  /** That the fleet's twin changes were stored (the fleet activity page). */
  fleetChanges: boolean;
  /** That rollouts changed (the rollout pages). */
  rollouts: boolean;
  heartbeat: NodeJS.Timeout;
  session?: StreamSession;
}

/** The sign-in session a stream belongs to, re-checked on every heartbeat. */
export interface StreamSession {
  id: string;
  isLive(): Promise<boolean>;
}

export interface BrokerOptions {
  /** Events kept for replay to a reconnecting tab. */
  replayCapacity?: number;
  heartbeatMs?: number;
  retryMs?: number;
  /** A stream whose unsent output grows past this is dropped; it reconnects and resumes. */
  maxBufferedBytes?: number;
  /** Live streams one session (or the local operator) may hold: one per open tab. */
  maxStreamsPerOwner?: number;
  /** Live streams this process holds in all. */
  maxStreams?: number;
  /** A resume that would replay more than this is told to refetch instead. */
  maxReplayBytes?: number;
  /** Resumes read back from the event source: at most this many at once … */
  maxConcurrentCatchUps?: number;
  /** … and, per owner, this many in a burst, then one every `catchUpEverySeconds`. */
  catchUpBurst?: number;
  catchUpEverySeconds?: number;
  /** Telemetry messages one tab may be sent a second (a burst of twice that); beyond, dropped and counted. */
  telemetryPerSecond?: number;
  /** Where a tab that resumes by event-source position catches up beyond the buffer. */
  resume?: ResumeSource;
}

/** Who opens a stream, and the sign-in session it lives and dies with (none in local mode). */
export interface StreamOwner {
  id: string;
  session?: StreamSession;
}

/**
 * Fans live events out to SSE streams, one per tab. Event ids are `<boot>-<n>`: a tab that
 * reconnects with a Last-Event-ID from this process gets what it missed from a bounded
 * buffer; one from another boot is told to resynchronise.
 *
 * Why one long file (about 500 lines): every part of it (what each tab watches, the replay
 * buffer and resume, the caps per session and per process, heartbeats, telemetry rates)
 * reads and changes the same map of open streams in the same synchronous steps; split
 * apart, each part would need the others' internals.
 */
export class EventBroker {
  readonly bootId = randomUUID().slice(0, 8);
  private sequence = 0;
  private readonly replay: {
    id: string;
    n: number;
    key?: string;
    event: LiveEvent;
    position?: EventSourcePosition;
  }[] = [];
  /** Per partition, the newest sequence number dropped from the replay buffer. */
  private readonly evicted = new Map<number, number>();
  private readonly resumeSource: ResumeSource | undefined;
  private feedStatus: FeedStatus = { source: 'polling', healthy: true };
  private readonly streams = new Map<string, Stream>();
  private readonly perOwner = new Map<string, number>();
  private readonly catchUpBudgets = new Map<string, TokenBucket>();
  private catchingUp = 0;
  private readonly dropTimer: NodeJS.Timeout;
  /** How many streams watch each telemetry key (so unwatched messages cost nothing). */
  private readonly telemetryWatchers = new Map<string, number>();
  private readonly options: Required<Omit<BrokerOptions, 'resume'>>;

  constructor(options: BrokerOptions = {}) {
    this.resumeSource = options.resume;
    this.options = {
      replayCapacity: options.replayCapacity ?? 1000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      retryMs: options.retryMs ?? 3000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      maxStreamsPerOwner: options.maxStreamsPerOwner ?? 20,
      maxStreams: options.maxStreams ?? 2000,
      maxReplayBytes: options.maxReplayBytes ?? 512 * 1024,
      maxConcurrentCatchUps: options.maxConcurrentCatchUps ?? 2,
      catchUpBurst: options.catchUpBurst ?? 3,
      catchUpEverySeconds: options.catchUpEverySeconds ?? 10,
      telemetryPerSecond: options.telemetryPerSecond ?? 100,
    };
    // Once a second, each tab that lost telemetry to its limit is told how much.
    this.dropTimer = setInterval(() => this.reportDrops(), 1000);
    this.dropTimer.unref();
  }

  /** Where live changes come from now: told to every tab when it changes, and to new ones. */
  feed(status: FeedStatus): void {
    if (JSON.stringify(status) === JSON.stringify(this.feedStatus)) return;
    this.feedStatus = status;
    this.publish({ type: 'feed', feed: status });
  }

  get streamCount(): number {
    return this.streams.size;
  }

  private frame(id: string | undefined, event: LiveEvent): string {
    return `${id ? `id: ${id}\n` : ''}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  }

  private write(stream: Stream, text: string): void {
    if (stream.response.writableLength > this.options.maxBufferedBytes) {
      // A tab that cannot keep up is dropped rather than buffered without bound; its
      // EventSource reconnects with Last-Event-ID and catches up from the replay buffer.
      this.close(stream.id);
      stream.response.destroy();
      return;
    }
    stream.response.write(text);
  }

  /**
   * Opens a stream on an HTTP response, unless its owner or this process already holds as
   * many as allowed (429, before anything is written).
   */
  open(response: ServerResponse, lastEventId: string | undefined, owner: StreamOwner): string {
    const held = this.perOwner.get(owner.id) ?? 0;
    if (held >= this.options.maxStreamsPerOwner) {
      throw new AppError(
        'throttled',
        `This session already has ${held} live streams (one per open tab); close some Twinscope tabs.`,
        { retryAfterSeconds: 30 },
      );
    }
    if (this.streams.size >= this.options.maxStreams) {
      throw new AppError(
        'throttled',
        'Twinscope is serving as many live streams as it may; try again shortly.',
        { retryAfterSeconds: 30 },
      );
    }
    const id = randomUUID();
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    response.socket?.setKeepAlive(true);
    const stream: Stream = {
      telemetry: new Set(),
      telemetryBudget: new TokenBucket(
        this.options.telemetryPerSecond,
        this.options.telemetryPerSecond * 2,
      ),
      dropped: 0,
      id,
      owner: owner.id,
      response,
      watched: new Set(),
      allActivity: false,
      fleetChanges: false,
      rollouts: false,
      heartbeat: setInterval(() => void this.beat(stream), this.options.heartbeatMs),
      ...(owner.session ? { session: owner.session } : {}),
    };
    this.streams.set(id, stream);
    this.perOwner.set(owner.id, held + 1);
    response.on('close', () => this.close(id));

    response.write(`retry: ${this.options.retryMs}\n\n`);
    const cursor = decodeCursor(lastEventId);
    if (cursor && this.resumeSource) {
      this.resume(stream, cursor, this.resumeSource);
      return id;
    }
    const [boot, n] = (lastEventId ?? '').split('-');
    const resumable = boot === this.bootId && Number.isInteger(Number(n));
    const missedStart =
      resumable && this.replay[0] !== undefined && this.replay[0].n > Number(n) + 1;
    const frames = resumable
      ? this.replay
          .filter((entry) => entry.n > Number(n))
          .map((entry) => this.frame(entry.id, entry.event))
      : [];
    // A forged or very old id must not make the BFF write megabytes: refetch instead.
    const tooMuch = this.bytes(frames) > this.options.maxReplayBytes;
    this.write(
      stream,
      this.hello(id, lastEventId !== undefined && (!resumable || missedStart || tooMuch)),
    );
    if (!tooMuch) for (const frame of frames) this.write(stream, frame);
    return id;
  }

  private bytes(frames: string[]): number {
    return frames.reduce((sum, frame) => sum + Buffer.byteLength(frame), 0);
  }

  /** Whether this owner may have a resume read back from the event source now. */
  private mayCatchUp(owner: string): boolean {
    if (this.catchingUp >= this.options.maxConcurrentCatchUps) return false;
    let budget = this.catchUpBudgets.get(owner);
    if (!budget) {
      if (this.catchUpBudgets.size >= 10_000) this.catchUpBudgets.clear();
      budget = new TokenBucket(1 / this.options.catchUpEverySeconds, this.options.catchUpBurst);
      this.catchUpBudgets.set(owner, budget);
    }
    return budget.take() === 0;
  }

  private hello(streamId: string, resync: boolean): string {
    return this.frame(undefined, {
      type: 'hello',
      streamId,
      feed: this.feedStatus,
      // A stranger id, or a gap nothing can fill: the page must refetch.
      resync,
    });
  }

  /**
   * Resumes a tab from its event-source position: what the replay buffer holds now, then
   * what it missed before that, read back from the event source (after a restart, or from
   * another replica). If even that falls short, the tab is told to refetch.
   */
  private resume(stream: Stream, cursor: number[], source: ResumeSource): void {
    this.write(stream, this.hello(stream.id, false));
    const gaps: Gap[] = [];
    for (let p = 0; p < Math.max(source.partitionCount, cursor.length); p++) {
      const from = cursor[p] ?? -1;
      const covered = source.coveredAfter(p);
      const bufferStart =
        covered === undefined ? undefined : Math.max(covered, this.evicted.get(p) ?? -1);
      if (bufferStart === undefined) gaps.push({ partition: p, after: from });
      else if (from < bufferStart) gaps.push({ partition: p, after: from, upTo: bufferStart });
    }
    const frames: string[] = [];
    for (const entry of this.replay) {
      const position = entry.position;
      if (position && position.sequenceNumber > (cursor[position.partition] ?? -1))
        frames.push(this.frame(entry.id, entry.event));
    }
    if (this.bytes(frames) > this.options.maxReplayBytes) {
      this.write(stream, this.hello(stream.id, true));
      return;
    }
    for (const frame of frames) this.write(stream, frame);
    if (gaps.length === 0) return;
    // Reading back costs the event source and the hub (a twin read per changed twin): a
    // few at a time, a few per owner; past that, the page refetches what it shows.
    if (!this.mayCatchUp(stream.owner)) {
      this.write(stream, this.hello(stream.id, true));
      return;
    }
    this.catchingUp++;
    source
      .catchUp(gaps, cursor)
      .then(
        ({ entries, complete }) => {
          if (!this.streams.has(stream.id)) return;
          for (const entry of entries) this.write(stream, this.frame(entry.id, entry.event));
          if (!complete) this.write(stream, this.hello(stream.id, true));
        },
        () => {
          if (this.streams.has(stream.id)) this.write(stream, this.hello(stream.id, true));
        },
      )
      .finally(() => this.catchingUp--);
  }

  private async beat(stream: Stream): Promise<void> {
    if (stream.session && !(await stream.session.isLive())) {
      this.endStream(stream);
      return;
    }
    this.write(stream, `: heartbeat ${Date.now()}\n\n`);
  }

  /** Tells the page its session is over (so it goes to sign-in, not reconnecting) and ends. */
  private endStream(stream: Stream): void {
    if (!this.streams.has(stream.id)) return;
    this.close(stream.id);
    stream.response.end(this.frame(undefined, { type: 'session-ended' }));
  }

  /** Ends every stream of a session that signed out. */
  endSession(sessionId: string): void {
    for (const stream of [...this.streams.values()])
      if (stream.session?.id === sessionId) this.endStream(stream);
  }

  close(streamId: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    this.setTelemetryKeys(stream, new Set());
    clearInterval(stream.heartbeat);
    this.streams.delete(streamId);
    const held = (this.perOwner.get(stream.owner) ?? 1) - 1;
    if (held > 0) this.perOwner.set(stream.owner, held);
    else this.perOwner.delete(stream.owner);
  }

  /**
   * Sets what a tab watches; returns false when the stream is unknown (gone) or belongs to
   * another owner (which must not learn that it exists).
   */
  watch(
    streamId: string,
    twins: TwinRef[],
    owner: string,
    fleet: { allActivity?: boolean; fleetChanges?: boolean; rollouts?: boolean } = {},
  ): boolean {
    const stream = this.streams.get(streamId);
    if (!stream || stream.owner !== owner) return false;
    stream.watched = new Set(twins.map(twinKey));
    stream.allActivity = fleet.allActivity === true;
    stream.fleetChanges = fleet.fleetChanges === true;
    stream.rollouts = fleet.rollouts === true;
    return true;
  }

  /** Tells the tabs showing rollouts that one changed (any replica's); they refetch it. */
  publishRollout(id: string): void {
    const text = this.frame(undefined, { type: 'rollout', id });
    for (const stream of [...this.streams.values()]) if (stream.rollouts) this.write(stream, text);
  }

  /**
   * Tells the tabs showing the fleet's activity that changes were stored. Not replayed on
   * resume: a tab that reconnects refetches its page anyway.
   */
  publishFleetChanges(count: number): void {
    const text = this.frame(undefined, { type: 'fleet-changes', count });
    for (const stream of [...this.streams.values()])
      if (stream.fleetChanges) this.write(stream, text);
  }

  /**
   * Sets whose telemetry a tab shows (a device with `modules` counts its modules' messages
   * too); false when the stream is unknown or another owner's.
   */
  watchTelemetry(streamId: string, targets: TelemetryTarget[], owner: string): boolean {
    const stream = this.streams.get(streamId);
    if (!stream || stream.owner !== owner) return false;
    this.setTelemetryKeys(stream, new Set(targets.map(telemetryTargetKey)));
    return true;
  }

  private setTelemetryKeys(stream: Stream, keys: Set<string>): void {
    for (const key of stream.telemetry) {
      const left = (this.telemetryWatchers.get(key) ?? 1) - 1;
      if (left > 0) this.telemetryWatchers.set(key, left);
      else this.telemetryWatchers.delete(key);
    }
    for (const key of keys)
      this.telemetryWatchers.set(key, (this.telemetryWatchers.get(key) ?? 0) + 1);
    stream.telemetry = keys;
  }

  /** Whether any tab shows this device's or module's telemetry. */
  wantsTelemetry(deviceId: string, moduleId?: string): boolean {
    return messageKeys(deviceId, moduleId).some((key) => this.telemetryWatchers.has(key));
  }

  /**
   * Sends a telemetry message to the tabs showing its device or module, each within its
   * rate; over it, the message is counted, not queued (telemetry is not replayed on resume).
   */
  publishTelemetry(event: TelemetryEvent): void {
    const keys = messageKeys(event.deviceId, event.moduleId).filter((key) =>
      this.telemetryWatchers.has(key),
    );
    if (keys.length === 0) return;
    const text = this.frame(undefined, event);
    for (const stream of [...this.streams.values()]) {
      if (!keys.some((key) => stream.telemetry.has(key))) continue;
      if (stream.telemetryBudget.take() === 0) this.write(stream, text);
      else stream.dropped++;
    }
  }

  private reportDrops(): void {
    for (const stream of [...this.streams.values()]) {
      if (stream.dropped === 0) continue;
      const dropped = stream.dropped;
      stream.dropped = 0;
      this.write(
        stream,
        this.frame(undefined, {
          type: 'telemetry-dropped',
          dropped,
          limitPerSecond: this.options.telemetryPerSecond,
        }),
      );
    }
  }

  /** Whether some tab watches this twin (`dev` or `dev/mod`), or every activity. */
  isWatched(key: string, activity = false): boolean {
    for (const stream of this.streams.values())
      if (stream.watched.has(key) || (activity && stream.allActivity)) return true;
    return false;
  }

  /** Every twin some tab watches. */
  watchedTwins(): TwinRef[] {
    const keys = new Set<string>();
    for (const stream of this.streams.values()) for (const key of stream.watched) keys.add(key);
    return [...keys].map((key) => {
      const [deviceId, moduleId] = key.split('/') as [string, string | undefined];
      return moduleId === undefined ? { deviceId } : { deviceId, moduleId };
    });
  }

  /**
   * Publishes an event: twin events go to tabs watching that twin, others to every tab.
   * Events read from an event source carry its position, which becomes their SSE id.
   */
  publish(event: LiveEvent, from?: { position: EventSourcePosition; cursor: string }): void {
    this.sequence++;
    const id = from?.cursor ?? `${this.bootId}-${this.sequence}`;
    // Twin events and activity go to tabs watching that twin; feedback to tabs watching its device.
    const key =
      event.type === 'twin' || event.type === 'connection' || event.type === 'version-stored'
        ? twinKey(event)
        : event.type === 'activity'
          ? twinKey(event.entry.target)
          : event.type === 'message-feedback'
            ? event.deviceId
            : undefined;
    this.replay.push({
      id,
      n: this.sequence,
      ...(key ? { key } : {}),
      event,
      ...(from ? { position: from.position } : {}),
    });
    if (this.replay.length > this.options.replayCapacity) {
      const dropped = this.replay.shift();
      if (dropped?.position)
        this.evicted.set(dropped.position.partition, dropped.position.sequenceNumber);
    }
    const text = this.frame(id, event);
    const everyActivity = event.type === 'activity';
    for (const stream of [...this.streams.values()]) {
      if (key === undefined || stream.watched.has(key) || (everyActivity && stream.allActivity))
        this.write(stream, text);
    }
  }

  /**
   * Ends every stream; with `retryMs`, first telling each tab to reconnect that soon (a
   * replica stopping: the tab resumes from its last id on another).
   */
  closeAll(options: { retryMs?: number } = {}): void {
    clearInterval(this.dropTimer);
    for (const stream of [...this.streams.values()]) {
      this.close(stream.id);
      if (options.retryMs !== undefined) stream.response.write(`retry: ${options.retryMs}\n\n`);
      stream.response.end();
    }
  }
}
