// Past 300 lines: queues, locks and settlement change the same entries in the same steps.
import { randomUUID } from 'node:crypto';
import { HubError } from '../errors.ts';
import type { ChangeLog } from '../store/change-log.ts';
import type { Registry } from '../store/registry.ts';
import { identityKey, type Identity } from '../devices/device-sessions.ts';
import { CloudToDeviceJournal } from './c2d-journal.ts';
import {
  C2D_LIMITS,
  messageBytes,
  type CloudMessage,
  type Delivery,
  type DeliveryListener,
  type OutgoingMessage,
} from './cloud-message.ts';
import { FeedbackQueue, wantsFeedback, type FeedbackBatch, type FeedbackCode } from './feedback.ts';

// The transports and the service import the queue's shapes from here, beside the queue.
export {
  C2D_LIMITS,
  type AckMode,
  type CloudMessage,
  type Delivery,
  type DeliveryListener,
  type OutgoingMessage,
} from './cloud-message.ts';
export type { FeedbackBatch, FeedbackCode, FeedbackRecord } from './feedback.ts';

interface Entry {
  message: CloudMessage;
  lock?: { token: string; until: number };
}

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
  private readonly journal: CloudToDeviceJournal;
  private readonly feedback: FeedbackQueue;
  private readonly sweep: NodeJS.Timeout;
  private seq = 0;
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
    this.journal = new CloudToDeviceJournal(options.file, {
      seq: () => this.seq,
      messages: () => this.messages(),
      batches: () => this.feedback.batches(),
      count: () => this.liveCount(),
    });
    this.feedback = new FeedbackQueue({
      registry,
      journal: this.journal,
      nextSeq: () => ++this.seq,
      now: () => this.now(),
      batchMs: options.feedbackBatchMs ?? 1000,
    });
    this.load();
    // A deleted device's queued messages go with it, unacknowledged; feedback it already
    // earned is still delivered.
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
    const replayed = this.journal.replay();
    if (!replayed) return;
    this.seq = replayed.seq;
    for (const message of replayed.messages) this.queueOf(message).push({ message });
    this.feedback.restore(replayed.batches);
    this.journal.rewrite();
    // The registry's counts were journaled with the identities; the queues are the truth.
    for (const record of [...this.registry.devices(), ...this.registry.modules()]) {
      const key = identityKey(record);
      if (record.cloudToDeviceMessageCount !== this.depth(record)) this.countChanged(key);
    }
  }

  private *messages(): Iterable<CloudMessage> {
    for (const queue of this.queues.values()) for (const { message } of queue) yield message;
  }

  private liveCount(): number {
    let n = this.feedback.batches().length;
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
    if (messageBytes(outgoing) > C2D_LIMITS.messageBytes) {
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
    this.journal.enqueued(message);
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
    this.journal.delivered(entry.message.seq, entry.message.deliveryCount);
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
    this.journal.done(entry.message.seq);
    this.countChanged(key);
    if (wantsFeedback(entry.message.ack, outcome)) this.feedback.record(entry.message, outcome);
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
      // Out of memory first: a compaction the done lines set off must not save them again.
      this.queues.delete(key);
      for (const entry of queue) {
        if (entry.lock) this.locks.delete(entry.lock.token);
        this.journal.done(entry.message.seq);
      }
    }
  }

  // ---- feedback --------------------------------------------------------------------

  onFeedback(listener: DeliveryListener): () => void {
    return this.feedback.onFeedback(listener);
  }

  /** Feedback batches waiting for the service, oldest first (not yet locked by a receiver). */
  feedbackBatches(): readonly FeedbackBatch[] {
    return this.feedback.batches();
  }

  /** The service completed a batch: gone for good. */
  feedbackDone(seq: number): void {
    this.feedback.done(seq);
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.sweep);
    this.feedback.flush();
    this.journal.close();
  }
}
