import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { twinKey, type FeedStatus, type LiveEvent, type TwinRef } from '@twinscope/contract';

interface Stream {
  id: string;
  response: Response;
  watched: Set<string>;
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
}

/**
 * Fans live events out to SSE streams, one per tab. Event ids are `<boot>-<n>`: a tab that
 * reconnects with a Last-Event-ID from this process gets what it missed from a bounded
 * buffer; one from another boot is told to resynchronise.
 */
export class EventBroker {
  readonly bootId = randomUUID().slice(0, 8);
  private sequence = 0;
  private readonly replay: { id: string; n: number; key?: string; event: LiveEvent }[] = [];
  private readonly streams = new Map<string, Stream>();
  private readonly options: Required<BrokerOptions>;

  constructor(
    private readonly feedStatus: () => FeedStatus,
    options: BrokerOptions = {},
  ) {
    this.options = {
      replayCapacity: options.replayCapacity ?? 1000,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      retryMs: options.retryMs ?? 3000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    };
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

  /** Opens a stream on an HTTP response. */
  open(response: Response, lastEventId: string | undefined, session?: StreamSession): string {
    const id = randomUUID();
    response.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    response.socket?.setKeepAlive(true);
    const stream: Stream = {
      id,
      response,
      watched: new Set(),
      heartbeat: setInterval(() => void this.beat(stream), this.options.heartbeatMs),
      ...(session ? { session } : {}),
    };
    this.streams.set(id, stream);
    response.on('close', () => this.close(id));

    const [boot, n] = (lastEventId ?? '').split('-');
    const resumable = boot === this.bootId && Number.isInteger(Number(n));
    const missedStart =
      resumable && this.replay[0] !== undefined && this.replay[0].n > Number(n) + 1;
    response.write(`retry: ${this.options.retryMs}\n\n`);
    this.write(
      stream,
      this.frame(undefined, {
        type: 'hello',
        streamId: id,
        feed: this.feedStatus(),
        // A stranger id, or a gap the buffer no longer covers: the page must refetch.
        resync: lastEventId !== undefined && (!resumable || missedStart),
      }),
    );
    if (resumable) {
      for (const entry of this.replay)
        if (entry.n > Number(n)) this.write(stream, this.frame(entry.id, entry.event));
    }
    return id;
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
    clearInterval(stream.heartbeat);
    this.streams.delete(streamId);
  }

  /** Sets what a tab watches; returns false when the stream is unknown (gone). */
  watch(streamId: string, twins: TwinRef[]): boolean {
    const stream = this.streams.get(streamId);
    if (!stream) return false;
    stream.watched = new Set(twins.map(twinKey));
    return true;
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

  /** Publishes an event: twin events go to tabs watching that twin, others to every tab. */
  publish(event: LiveEvent): void {
    this.sequence++;
    const id = `${this.bootId}-${this.sequence}`;
    const key = event.type === 'twin' ? twinKey(event) : undefined;
    this.replay.push({ id, n: this.sequence, ...(key ? { key } : {}), event });
    if (this.replay.length > this.options.replayCapacity) this.replay.shift();
    const text = this.frame(id, event);
    for (const stream of [...this.streams.values()]) {
      if (key === undefined || stream.watched.has(key)) this.write(stream, text);
    }
  }

  closeAll(): void {
    for (const stream of [...this.streams.values()]) {
      this.close(stream.id);
      stream.response.end();
    }
  }
}
