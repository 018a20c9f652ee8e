import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** Values an AMQP application property or annotation may hold here. */
export type PropertyValue = string | number | boolean;

/**
 * Where the next event of a partition starts: after this one's body and a byte of framing, so
 * offsets increase with every event, an empty one too (Event Hubs' offsets count each event's
 * framing as well; a consumer resuming after an empty event must get the next one).
 */
const offsetAfter = (offset: number, body: Buffer) => offset + body.length + 1;

/** A routed message as the built-in endpoint delivers it. */
export interface RoutedMessage {
  /** Picks the partition (IoT Hub hashes the device id). */
  partitionKey: string;
  body: Buffer;
  /** AMQP message properties: message_id, correlation_id, content_type, content_encoding, user_id. */
  properties: Record<string, string>;
  applicationProperties: Record<string, PropertyValue>;
  /** iothub-* message annotations; `iothub-enqueuedtime` is epoch ms. */
  annotations: Record<string, PropertyValue>;
}

export interface StoredEvent extends Omit<RoutedMessage, 'partitionKey'> {
  partition: number;
  sequenceNumber: number;
  /** Byte position of the event in its partition's stream, as Event Hubs numbers offsets. */
  offset: number;
  enqueuedTime: number;
}

export interface PartitionInfo {
  partition: number;
  beginSequenceNumber: number;
  lastSequenceNumber: number;
  lastOffset: number;
  lastEnqueuedTime: number;
  isEmpty: boolean;
}

export interface EventStoreOptions {
  partitionCount: number;
  /** How long events are kept (IoT Hub: 1 to 7 days). */
  retentionMs: number;
  /** Where each partition's events are appended; none keeps them in memory only. */
  directory?: string;
  fsync?: boolean;
  /** At most this many events per partition are kept, whatever their age. */
  maxEventsPerPartition?: number;
  now?: () => number;
}

interface DiskLine {
  s: number;
  o: number;
  t: number;
  b: string;
  p: Record<string, string>;
  a: Record<string, PropertyValue>;
  n: Record<string, PropertyValue>;
}

/** FNV-1a: any stable hash of the device id will do, as IoT Hub's own is not documented. */
export function partitionFor(key: string, partitionCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitionCount;
}

class Partition {
  events: StoredEvent[] = [];
  /** The sequence number the next event gets; survives the events it numbered. */
  nextSequence = 0;
  nextOffset = 0;
  lastOffset = -1;
  lastEnqueuedTime = 0;
  fd: number | undefined;
  droppedSinceRewrite = 0;
  readonly listeners = new Set<(event: StoredEvent) => void>();

  constructor(
    readonly id: number,
    readonly file: string | undefined,
  ) {}
}

/**
 * The built-in endpoint's partitions: an ordered, numbered, retained log per partition,
 * appended to a JSON-lines file per partition before anyone is told, and read back from
 * any position (sequence number, offset, time) by consumers.
 */
export class EventStore {
  private readonly partitions: Partition[];
  private readonly now: () => number;
  private readonly maxEvents: number;

  constructor(private readonly options: EventStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxEvents = options.maxEventsPerPartition ?? 200_000;
    if (options.directory) mkdirSync(options.directory, { recursive: true });
    this.partitions = Array.from({ length: options.partitionCount }, (_, id) => {
      const partition = new Partition(
        id,
        options.directory ? join(options.directory, `partition-${id}.jsonl`) : undefined,
      );
      this.load(partition);
      return partition;
    });
  }

  get partitionCount(): number {
    return this.partitions.length;
  }

  private load(partition: Partition): void {
    if (!partition.file) return;
    const meta = `${partition.file}.meta.json`;
    if (existsSync(meta)) {
      // Numbering outlives retention: a consumer's checkpoint never sees numbers reused.
      Object.assign(partition, JSON.parse(readFileSync(meta, 'utf8')) as object);
    }
    if (!existsSync(partition.file)) return;
    const cutoff = this.now() - this.options.retentionMs;
    const text = readFileSync(partition.file, 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      let parsed: DiskLine;
      try {
        parsed = JSON.parse(line) as DiskLine;
      } catch {
        continue; // torn by a crash mid-append: never acknowledged
      }
      partition.nextSequence = parsed.s + 1;
      partition.nextOffset = offsetAfter(parsed.o, Buffer.from(parsed.b, 'base64'));
      partition.lastOffset = parsed.o;
      partition.lastEnqueuedTime = parsed.t;
      if (parsed.t < cutoff) continue;
      partition.events.push({
        partition: partition.id,
        sequenceNumber: parsed.s,
        offset: parsed.o,
        enqueuedTime: parsed.t,
        body: Buffer.from(parsed.b, 'base64'),
        properties: parsed.p,
        applicationProperties: parsed.a,
        annotations: parsed.n,
      });
    }
    this.trim(partition);
    this.rewrite(partition);
  }

  private line(event: StoredEvent): string {
    const line: DiskLine = {
      s: event.sequenceNumber,
      o: event.offset,
      t: event.enqueuedTime,
      b: event.body.toString('base64'),
      p: event.properties,
      a: event.applicationProperties,
      n: event.annotations,
    };
    return `${JSON.stringify(line)}\n`;
  }

  /** Rewrites a partition file to what is retained, numbering kept beside it. */
  private rewrite(partition: Partition): void {
    if (!partition.file) return;
    if (partition.fd !== undefined) closeSync(partition.fd);
    const { nextSequence, nextOffset, lastOffset, lastEnqueuedTime } = partition;
    writeFileSync(
      `${partition.file}.meta.json`,
      JSON.stringify({ nextSequence, nextOffset, lastOffset, lastEnqueuedTime }),
    );
    const temp = `${partition.file}.tmp`;
    writeFileSync(temp, partition.events.map((e) => this.line(e)).join(''));
    renameSync(temp, partition.file);
    partition.fd = openSync(partition.file, 'a');
    partition.droppedSinceRewrite = 0;
  }

  /** Drops what is past retention or over the cap; the numbering carries on regardless. */
  private trim(partition: Partition): void {
    const cutoff = this.now() - this.options.retentionMs;
    let drop = 0;
    while (
      drop < partition.events.length &&
      (partition.events[drop]!.enqueuedTime < cutoff ||
        partition.events.length - drop > this.maxEvents)
    )
      drop++;
    if (drop > 0) {
      partition.events.splice(0, drop);
      partition.droppedSinceRewrite += drop;
    }
  }

  /** Appends a routed message to its partition; durable (as configured) before listeners hear. */
  append(message: RoutedMessage): StoredEvent {
    const partition = this.partitions[partitionFor(message.partitionKey, this.partitions.length)]!;
    const enqueuedTime = Math.max(this.now(), partition.lastEnqueuedTime);
    const { partitionKey: _key, ...content } = message;
    const event: StoredEvent = {
      ...content,
      partition: partition.id,
      sequenceNumber: partition.nextSequence,
      offset: partition.nextOffset,
      enqueuedTime,
    };
    if (partition.file) {
      partition.fd ??= openSync(partition.file, 'a');
      writeSync(partition.fd, this.line(event));
      if (this.options.fsync) fsyncSync(partition.fd);
    }
    partition.nextSequence++;
    partition.lastOffset = event.offset;
    partition.nextOffset = offsetAfter(event.offset, event.body);
    partition.lastEnqueuedTime = enqueuedTime;
    partition.events.push(event);
    this.trim(partition);
    if (partition.droppedSinceRewrite > Math.max(1000, partition.events.length))
      this.rewrite(partition);
    for (const listener of partition.listeners) listener(event);
    return event;
  }

  info(partitionId: number): PartitionInfo {
    const partition = this.partitions[partitionId]!;
    const first = partition.events[0];
    return {
      partition: partitionId,
      beginSequenceNumber: first?.sequenceNumber ?? partition.nextSequence,
      lastSequenceNumber: partition.nextSequence - 1,
      lastOffset: partition.lastOffset,
      lastEnqueuedTime: partition.lastEnqueuedTime,
      isEmpty: partition.events.length === 0,
    };
  }

  /** The first retained event at or after a sequence number, or undefined when caught up. */
  at(partitionId: number, sequenceNumber: number): StoredEvent | undefined {
    const events = this.partitions[partitionId]!.events;
    const first = events[0];
    if (!first) return undefined;
    return events[Math.max(0, sequenceNumber - first.sequenceNumber)];
  }

  /** The sequence number where reading starts for a position. */
  startSequence(
    partitionId: number,
    position:
      | { kind: 'earliest' }
      | { kind: 'latest' }
      | { kind: 'sequence'; value: number; inclusive: boolean }
      | { kind: 'offset'; value: number; inclusive: boolean }
      | { kind: 'time'; value: number; inclusive: boolean },
  ): number {
    const partition = this.partitions[partitionId]!;
    const events = partition.events;
    const firstRetained = events[0]?.sequenceNumber ?? partition.nextSequence;
    switch (position.kind) {
      case 'earliest':
        return firstRetained;
      case 'latest':
        return partition.nextSequence;
      case 'sequence':
        return Math.max(firstRetained, position.value + (position.inclusive ? 0 : 1));
      case 'offset':
      case 'time': {
        const key = (e: StoredEvent) => (position.kind === 'offset' ? e.offset : e.enqueuedTime);
        const found = events.find((e) =>
          position.inclusive ? key(e) >= position.value : key(e) > position.value,
        );
        return found?.sequenceNumber ?? partition.nextSequence;
      }
    }
  }

  subscribe(partitionId: number, listener: (event: StoredEvent) => void): () => void {
    const listeners = this.partitions[partitionId]!.listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  close(): void {
    for (const partition of this.partitions) {
      if (partition.fd !== undefined) closeSync(partition.fd);
      partition.fd = undefined;
    }
  }
}
