import { readJsonState, writeJsonState } from '../store/private-files.ts';

/** A file notification as the service receives it (C# FileNotification.cs names the fields). */
export interface FileNotification {
  deviceId: string;
  blobUri: string;
  blobName: string;
  lastUpdatedTime: string;
  blobSizeInBytes: number;
  enqueuedTimeUtc: string;
}

/** How the hub keeps file notifications for the service (the hub's `fileUploadNotifications` settings). */
export interface NotificationSettings {
  /** How long a notification waits to be received before it is dropped (IoT Hub: 1 hour). */
  ttlSeconds: number;
  /** How long a receiver holds one before it is offered again (IoT Hub: 1 minute). */
  lockSeconds: number;
  /** How many times one is delivered before it is dropped (IoT Hub: 10). */
  maxDeliveryCount: number;
}

interface Entry {
  seq: number;
  notification: FileNotification;
  expiresAt: number;
  deliveryCount: number;
  lockedUntil: number;
  /** Which delivery holds the lock (each take makes a new one). */
  lock: number;
}

/** A notification as a receiver holds it: settled, or let go, by this lock only. */
export interface HeldNotification {
  seq: number;
  lock: number;
  notification: FileNotification;
}

/** What is kept of a notification across restarts (its lock is not: a restart lets it go). */
type Saved = Pick<Entry, 'seq' | 'notification' | 'expiresAt' | 'deliveryCount'>;

/**
 * The file notification queue the service reads (`/messages/serviceBound/filenotifications`):
 * one queue for the hub, each notification locked while a receiver holds it, offered again
 * when abandoned or when the lock runs out, dropped once delivered too often or expired.
 * With a file (`state/file-notifications.json` in the data dir) the notifications and their
 * delivery counts outlive a restart, as IoT Hub keeps them for their time to live.
 */
export class FileNotificationQueue {
  private readonly entries: Entry[] = [];
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private locks = 0;
  /** Wakes receivers when a lock runs out, so a notification held too long is offered again. */
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly settings: NotificationSettings,
    private readonly now: () => number = Date.now,
    private readonly file?: string,
  ) {
    if (file)
      for (const saved of readJsonState<Saved>(file, 'file notifications')) {
        this.entries.push({ ...saved, lockedUntil: 0, lock: 0 });
        this.seq = Math.max(this.seq, saved.seq);
      }
    this.sweep = setInterval(() => this.unlockExpired(), 1000);
    this.sweep.unref();
  }

  /** Writes what is kept (a few notifications at most: written whole, atomically). */
  private save(): void {
    if (!this.file) return;
    writeJsonState(
      this.file,
      this.entries.map(({ seq, notification, expiresAt, deliveryCount }) => ({
        seq,
        notification,
        expiresAt,
        deliveryCount,
      })),
    );
  }

  push(notification: FileNotification): void {
    this.entries.push({
      seq: ++this.seq,
      notification,
      expiresAt: this.now() + this.settings.ttlSeconds * 1000,
      deliveryCount: 0,
      lockedUntil: 0,
      lock: 0,
    });
    this.save();
    for (const listener of [...this.listeners]) listener();
  }

  /** Hears when a notification may be taken. */
  onAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The next notification no one holds, locked for the taker; undefined when there is none. */
  take(): HeldNotification | undefined {
    this.releaseExpiredLocks();
    this.drop();
    const now = this.now();
    const entry = this.entries.find((e) => e.lockedUntil === 0);
    if (!entry) return undefined;
    entry.deliveryCount++;
    entry.lockedUntil = now + this.settings.lockSeconds * 1000;
    entry.lock = ++this.locks;
    // Its delivery count outlives a restart, so one never delivered forever.
    this.save();
    return { seq: entry.seq, lock: entry.lock, notification: entry.notification };
  }

  /**
   * The entry a receiver still holds: a delivery whose lock ran out (and was taken again
   * since) settles nothing, as a lost lock on IoT Hub.
   */
  private held(held: { seq: number; lock: number }): Entry | undefined {
    const entry = this.entries.find((e) => e.seq === held.seq);
    return entry && entry.lock === held.lock && entry.lockedUntil !== 0 ? entry : undefined;
  }

  /** Completed or rejected: gone. */
  done(held: { seq: number; lock: number }): void {
    const entry = this.held(held);
    if (!entry) return;
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.save();
  }

  /** Abandoned, or its receiver went away: offered again, unless delivered too often. */
  release(held: { seq: number; lock: number }): void {
    const entry = this.held(held);
    if (!entry) return;
    entry.lockedUntil = 0;
    this.drop();
    for (const listener of [...this.listeners]) listener();
  }

  /** Notifications waiting or held (for the service's statistics and tests). */
  get size(): number {
    this.drop();
    return this.entries.length;
  }

  close(): void {
    clearInterval(this.sweep);
  }

  private unlockExpired(): void {
    const freed = this.releaseExpiredLocks();
    this.drop();
    if (freed) for (const listener of [...this.listeners]) listener();
  }

  /** Locks that ran out are let go; whether any was. */
  private releaseExpiredLocks(): boolean {
    const now = this.now();
    let freed = false;
    for (const entry of this.entries) {
      if (entry.lockedUntil === 0 || entry.lockedUntil > now) continue;
      entry.lockedUntil = 0;
      freed = true;
    }
    return freed;
  }

  private drop(): void {
    const now = this.now();
    const before = this.entries.length;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      const exhausted =
        entry.deliveryCount >= this.settings.maxDeliveryCount && entry.lockedUntil === 0;
      if (entry.expiresAt <= now || exhausted) this.entries.splice(i, 1);
    }
    if (this.entries.length !== before) this.save();
  }
}
