// Long on purpose: one device queue's rules (limits, locks, delivery counts, expiry, feedback
// batches) and their durable log (c2d.jsonl, replayed on start and rewritten when it grows)
// change the same entries in the same steps, so splitting them would split every operation
// in two. The transports only call next/complete/reject/abandon; the AMQP routes are apart.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { HubError } from '../errors.ts';
import { openPrivateFile } from '../store/private-files.ts';
import type { ChangeLog } from '../store/change-log.ts';
import type { Registry } from '../store/registry.ts';
import { identityKey, type Identity } from '../devices/device-sessions.ts';

/** IoT Hub's cloud-to-device limits ("Cloud-to-device messages", "Quotas and throttling"). */
export const C2D_LIMITS = {
  /** Messages queued per device (or module) at once. */
  queueDepth: 50,
  /** Body plus property names and values. */
  messageBytes: 64 * 1024,
  defaultTtlMs: 3_600_000,
  maxTtlMs: 2 * 24 * 3_600_000,
  lockMs: 60_000,
  maxDeliveryCount: 10,
  /** Feedback records in one batch, and how long a batch waits for more. */
  feedbackBatch: 64,
} as const;

export type AckMode = 'none' | 'positive' | 'negative' | 'full';
export type FeedbackCode = 'Success' | 'Expired' | 'DeliveryCountExceeded' | 'Rejected' | 'Purged';

/** A message the service sent, as the queue holds it. */
export interface CloudMessage {
  /** The queue's own id, unique for the hub's life (also the lock token's seed). */
  seq: number;
  deviceId: string;
  moduleId?: string;
  messageId?: string;
  correlationId?: string;
  userId?: string;
  contentType?: string;
  contentEncoding?: string;
  ack: AckMode;
  /** Application properties (string values). */
  properties: Record<string, string>;
  body: Buffer;
  enqueuedTime: number;
  expiryTime: number;
  deliveryCount: number;
}

/** What a service sends: everything but the queue's bookkeeping. */
export type OutgoingMessage = Omit<
  CloudMessage,
  'seq' | 'deviceId' | 'moduleId' | 'enqueuedTime' | 'expiryTime' | 'deliveryCount'
> & { expiryTime?: number };

/** A message handed to a device, locked until it settles it (or the lock runs out). */
export interface Delivery {
  message: CloudMessage;
  lockToken: string;
}

export interface FeedbackRecord {
  originalMessageId: string;
  enqueuedTimeUtc: string;
  statusCode: FeedbackCode;
  description: string;
  deviceId: string;
  deviceGenerationId: string;
}

/** A batch of feedback records, as the service's feedback receiver gets it. */
export interface FeedbackBatch {
  seq: number;
  enqueuedTime: number;
  records: FeedbackRecord[];
}

type LogLine =
  | { op: 'enqueue'; message: Omit<CloudMessage, 'body'> & { body: string } }
  | { op: 'done'; seq: number }
  | { op: 'delivered'; seq: number; deliveryCount: number }
  | { op: 'feedback'; batch: Omit<FeedbackBatch, 'records'> & { records: FeedbackRecord[] } }
  | { op: 'feedback-done'; seq: number }
  | { op: 'counter'; seq: number };

interface Entry {
  message: CloudMessage;
  lock?: { token: string; until: number };
}

/** Who gets told that an identity's queue has something to deliver. */
export type DeliveryListener = () => void;

const DESCRIPTIONS: Record<FeedbackCode, string> = {
  Success: 'Success',
  Expired: 'Message expired',
  DeliveryCountExceeded: 'Message delivery count exceeded',
  Rejected: 'Message rejected',
  Purged: 'Message purged',
};

/**
 * Cloud-to-device messaging as IoT Hub does it: a queue per device (or module) of at most
 * 50 messages; a delivery locks a message (1 minute) until the device completes, abandons
 * or rejects it; abandons count deliveries (10 at most); expiry and rejection dead-letter;
 * acknowledgements become feedback records, batched for the service's feedback receiver.
 * Transports ask for the next message and settle it; the queue tells them when one
 * arrives. Durable in `c2d.jsonl` beside the registry's journal (locks are not: after a
 * restart every message is enqueued again).
 */
export class CloudToDevice {
  private readonly queues = new Map<string, Entry[]>();
  private readonly locks = new Map<string, Entry>();
  private readonly listeners = new Map<string, Set<DeliveryListener>>();
  private readonly feedback: FeedbackBatch[] = [];
  private readonly feedbackListeners = new Set<DeliveryListener>();
  private pendingRecords: FeedbackRecord[] = [];
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly sweep: NodeJS.Timeout;
  private seq = 0;
  private fd: number | undefined;
  private logLines = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    changes: ChangeLog,
    private readonly options: {
      /** The journal file; none keeps the queues in memory. */
      file?: string;
      /** How long a feedback batch waits for more records (IoT Hub: up to 15 s). */
      feedbackBatchMs?: number;
      now?: () => number;
    } = {},
  ) {
    this.load();
    // A deleted device's messages and pending feedback go with it.
    this.unsubscribe = changes.subscribe((event) => {
      if (event.opType === 'deleteDeviceIdentity')
        this.forget({
          deviceId: event.deviceId,
          ...(event.moduleId ? { moduleId: event.moduleId } : {}),
        });
    });
    this.sweep = setInterval(() => this.expire(), 1000);
    this.sweep.unref();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  // ---- durability ------------------------------------------------------------------

  private load(): void {
    const file = this.options.file;
    if (!file) return;
    if (existsSync(file)) {
      const live = new Map<number, CloudMessage>();
      const batches = new Map<number, FeedbackBatch>();
      for (const text of readFileSync(file, 'utf8').split('\n')) {
        if (!text.trim()) continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          continue; // a line torn by a crash mid-append
        }
        if (line.op === 'enqueue')
          live.set(line.message.seq, {
            ...line.message,
            body: Buffer.from(line.message.body, 'base64'),
          });
        else if (line.op === 'done') live.delete(line.seq);
        else if (line.op === 'delivered') {
          const message = live.get(line.seq);
          if (message) message.deliveryCount = line.deliveryCount;
        } else if (line.op === 'feedback') batches.set(line.batch.seq, line.batch);
        else if (line.op === 'feedback-done') batches.delete(line.seq);
        if ('seq' in line) this.seq = Math.max(this.seq, line.seq);
        if (line.op === 'enqueue') this.seq = Math.max(this.seq, line.message.seq);
        if (line.op === 'feedback') this.seq = Math.max(this.seq, line.batch.seq);
      }
      for (const message of live.values()) this.queueOf(message).push({ message });
      this.feedback.push(...batches.values());
    }
    this.rewrite();
    // The registry's counts were journaled with the identities; the queues are the truth.
    for (const record of [...this.registry.devices(), ...this.registry.modules()]) {
      const key = identityKey(record);
      if (record.cloudToDeviceMessageCount !== this.depth(record)) this.countChanged(key);
    }
  }

  /** Writes what is live as a fresh journal (at start, and when the journal has grown). */
  private rewrite(): void {
    const file = this.options.file;
    if (!file) return;
    const temporary = `${file}.tmp`;
    const fd = openPrivateFile(temporary, 'w');
    try {
      const lines: LogLine[] = [{ op: 'counter', seq: this.seq }];
      for (const queue of this.queues.values())
        for (const { message } of queue)
          lines.push({ op: 'enqueue', message: this.encode(message) });
      for (const batch of this.feedback) lines.push({ op: 'feedback', batch });
      writeSync(fd, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openPrivateFile(file, 'a');
    this.logLines = 0;
  }

  private encode(message: CloudMessage): Omit<CloudMessage, 'body'> & { body: string } {
    return { ...message, body: message.body.toString('base64') };
  }

  private append(line: LogLine): void {
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
    } catch (error) {
      throw new HubError(
        'ServiceUnavailable',
        `The emulator could not store the message: ${(error as Error).message}`,
      );
    }
    if (++this.logLines > 10_000 && this.logLines > 4 * this.liveCount()) this.rewrite();
  }

  private liveCount(): number {
    let n = this.feedback.length;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  // ---- queues ----------------------------------------------------------------------

  private queueOf(identity: Identity): Entry[] {
    const key = identityKey(identity);
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = []));
    return queue;
  }

  /** The number of messages waiting for or held by a device (its cloudToDeviceMessageCount). */
  depth(identity: Identity): number {
    return this.queues.get(identityKey(identity))?.length ?? 0;
  }

  private countChanged(key: string): void {
    const [deviceId, moduleId] = key.split('/') as [string, string | undefined];
    this.registry.setCloudToDeviceCount(deviceId, moduleId, this.queues.get(key)?.length ?? 0);
  }

  /**
   * The service sends a message: refused when the device is unknown (DeviceNotFound), its
   * queue is full (DeviceMaximumQueueDepthExceeded) or it is too large.
   */
  enqueue(identity: Identity, outgoing: OutgoingMessage): CloudMessage {
    if (!this.registry.find(identity.deviceId, identity.moduleId)) {
      throw new HubError('DeviceNotFound', `${identityKey(identity)} is not registered.`);
    }
    const size =
      outgoing.body.length +
      Object.entries(outgoing.properties).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (size > C2D_LIMITS.messageBytes) {
      throw new HubError(
        'RequestEntityTooLarge',
        `Cloud-to-device messages are limited to ${C2D_LIMITS.messageBytes / 1024} KB.`,
      );
    }
    const queue = this.queueOf(identity);
    if (queue.length >= C2D_LIMITS.queueDepth) {
      throw new HubError(
        'DeviceMaximumQueueDepthExceeded',
        `The cloud-to-device queue of ${identityKey(identity)} already holds ${C2D_LIMITS.queueDepth} messages.`,
      );
    }
    const now = this.now();
    const { expiryTime, ...rest } = outgoing;
    const message: CloudMessage = {
      ...rest,
      seq: ++this.seq,
      deviceId: identity.deviceId,
      ...(identity.moduleId !== undefined ? { moduleId: identity.moduleId } : {}),
      enqueuedTime: now,
      expiryTime: Math.min(expiryTime ?? now + C2D_LIMITS.defaultTtlMs, now + C2D_LIMITS.maxTtlMs),
      deliveryCount: 0,
    };
    this.append({ op: 'enqueue', message: this.encode(message) });
    queue.push({ message });
    this.countChanged(identityKey(identity));
    this.notify(identityKey(identity));
    return message;
  }

  /** Tells `listener` whenever this identity's queue may have a message to deliver. */
  onMessage(identity: Identity, listener: DeliveryListener): () => void {
    const key = identityKey(identity);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  private notify(key: string): void {
    for (const listener of [...(this.listeners.get(key) ?? [])]) listener();
  }

  /** Locks the next deliverable message for a device, or answers undefined. */
  next(identity: Identity): Delivery | undefined {
    this.expire();
    const now = this.now();
    const queue = this.queues.get(identityKey(identity)) ?? [];
    const entry = queue.find((e) => !e.lock || e.lock.until <= now);
    if (!entry) return undefined;
    if (entry.lock) this.locks.delete(entry.lock.token);
    const token = randomUUID();
    entry.lock = { token, until: now + C2D_LIMITS.lockMs };
    this.locks.set(token, entry);
    return { message: entry.message, lockToken: token };
  }

  private locked(identity: Identity, lockToken: string): Entry {
    const entry = this.locks.get(lockToken);
    if (
      !entry ||
      !entry.lock ||
      entry.lock.until <= this.now() ||
      identityKey(entry.message) !== identityKey(identity)
    ) {
      throw new HubError(
        'DeviceMessageLockLost',
        'The lock token is not valid (settled, expired, or another device’s).',
      );
    }
    return entry;
  }

  /** The device processed it: gone, with Success feedback when asked for. */
  complete(identity: Identity, lockToken: string): void {
    const entry = this.locked(identity, lockToken);
    this.remove(entry, 'Success');
  }

  /** The device refused it: dead-lettered, with Rejected feedback when asked for. */
  reject(identity: Identity, lockToken: string): void {
    const entry = this.locked(identity, lockToken);
    this.remove(entry, 'Rejected');
  }

  /** The device gives it back: enqueued again, one delivery counted; past 10, dead-lettered. */
  abandon(identity: Identity, lockToken: string): void {
    const entry = this.locked(identity, lockToken);
    this.locks.delete(lockToken);
    delete entry.lock;
    entry.message.deliveryCount++;
    if (entry.message.deliveryCount >= C2D_LIMITS.maxDeliveryCount) {
      this.remove(entry, 'DeliveryCountExceeded');
      return;
    }
    this.append({
      op: 'delivered',
      seq: entry.message.seq,
      deliveryCount: entry.message.deliveryCount,
    });
    this.notify(identityKey(entry.message));
  }

  /** A transport lost its delivery (link or connection closed unsettled): enqueued again. */
  release(lockToken: string): void {
    const entry = this.locks.get(lockToken);
    if (!entry) return;
    this.locks.delete(lockToken);
    delete entry.lock;
    this.notify(identityKey(entry.message));
  }

  /** `DELETE /devices/{id}/commands`: empties the queue, with Purged feedback when asked for. */
  purge(identity: Identity): number {
    if (!this.registry.find(identity.deviceId, identity.moduleId))
      throw new HubError('DeviceNotFound', `${identityKey(identity)} is not registered.`);
    const queue = [...(this.queues.get(identityKey(identity)) ?? [])];
    for (const entry of queue) this.remove(entry, 'Purged');
    return queue.length;
  }

  private remove(entry: Entry, outcome: FeedbackCode): void {
    const key = identityKey(entry.message);
    const queue = this.queues.get(key);
    const at = queue?.indexOf(entry) ?? -1;
    if (queue && at >= 0) queue.splice(at, 1);
    if (queue?.length === 0) this.queues.delete(key);
    if (entry.lock) this.locks.delete(entry.lock.token);
    this.append({ op: 'done', seq: entry.message.seq });
    this.countChanged(key);
    const wanted =
      entry.message.ack === 'full' ||
      (entry.message.ack === 'positive' && outcome === 'Success') ||
      (entry.message.ack === 'negative' && outcome !== 'Success');
    if (wanted) this.record(entry.message, outcome);
  }

  /** Dead-letters messages past their expiry (Expired feedback when asked for). */
  private expire(): void {
    const now = this.now();
    for (const queue of [...this.queues.values()]) {
      for (const entry of [...queue]) {
        if (entry.message.expiryTime <= now && !(entry.lock && entry.lock.until > now))
          this.remove(entry, 'Expired');
      }
    }
  }

  private forget(identity: Identity): void {
    const prefix = identityKey(identity);
    for (const [key, queue] of [...this.queues]) {
      if (key !== prefix && !(identity.moduleId === undefined && key.startsWith(`${prefix}/`)))
        continue;
      for (const entry of queue) {
        if (entry.lock) this.locks.delete(entry.lock.token);
        this.append({ op: 'done', seq: entry.message.seq });
      }
      this.queues.delete(key);
    }
  }

  // ---- feedback --------------------------------------------------------------------

  private record(message: CloudMessage, outcome: FeedbackCode): void {
    this.pendingRecords.push({
      originalMessageId: message.messageId ?? '',
      enqueuedTimeUtc: new Date(this.now()).toISOString(),
      statusCode: outcome,
      description: DESCRIPTIONS[outcome],
      deviceId: message.deviceId,
      deviceGenerationId: this.registry.find(message.deviceId)?.generationId ?? '',
    });
    if (this.pendingRecords.length >= C2D_LIMITS.feedbackBatch) this.flushFeedback();
    else
      this.batchTimer ??= setTimeout(
        () => this.flushFeedback(),
        this.options.feedbackBatchMs ?? 1000,
      );
  }

  private flushFeedback(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.pendingRecords.length === 0) return;
    const batch: FeedbackBatch = {
      seq: ++this.seq,
      enqueuedTime: this.now(),
      records: this.pendingRecords,
    };
    this.pendingRecords = [];
    this.append({ op: 'feedback', batch });
    this.feedback.push(batch);
    for (const listener of [...this.feedbackListeners]) listener();
  }

  onFeedback(listener: DeliveryListener): () => void {
    this.feedbackListeners.add(listener);
    return () => this.feedbackListeners.delete(listener);
  }

  /** Feedback batches waiting for the service, oldest first (not yet locked by a receiver). */
  feedbackBatches(): readonly FeedbackBatch[] {
    return this.feedback;
  }

  /** The service completed a batch: gone for good. */
  feedbackDone(seq: number): void {
    const at = this.feedback.findIndex((batch) => batch.seq === seq);
    if (at < 0) return;
    this.feedback.splice(at, 1);
    this.append({ op: 'feedback-done', seq });
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.sweep);
    this.flushFeedback();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
