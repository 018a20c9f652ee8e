import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileNotificationQueue, type FileNotification } from './file-notifications.ts';

const notification = (blobName: string): FileNotification => ({
  deviceId: 'd1',
  blobUri: `https://storage/fileupload/d1/${blobName}`,
  blobName: `d1/${blobName}`,
  lastUpdatedTime: '2026-12-07T00:00:00.000Z',
  blobSizeInBytes: 5,
  enqueuedTimeUtc: '2026-12-07T00:00:00.000Z',
});

describe('FileNotificationQueue', () => {
  let clock = 0;
  const queues: FileNotificationQueue[] = [];
  const queue = (file?: string) => {
    const q = new FileNotificationQueue(
      { ttlSeconds: 3600, lockSeconds: 60, maxDeliveryCount: 3 },
      () => clock,
      file,
    );
    queues.push(q);
    return q;
  };
  afterEach(() => {
    for (const q of queues.splice(0)) q.close();
    clock = 0;
  });

  it('when a receiver holds a notification past its lock, then it is offered again and the first receiver’s late settle changes nothing', () => {
    const q = queue();
    q.push(notification('a.bin'));
    const first = q.take()!;
    expect(q.take()).toBeUndefined(); // locked
    clock += 61_000;
    const second = q.take()!;
    expect(second.seq).toBe(first.seq);
    q.done(first); // the lock was lost: nothing happens
    q.release(first);
    expect(q.size).toBe(1);
    expect(q.take()).toBeUndefined(); // still the second receiver's
    q.done(second);
    expect(q.size).toBe(0);
  });

  it('when a notification is abandoned as often as it may be delivered, or outlives its time to live, then it is dropped', () => {
    const q = queue();
    q.push(notification('abandoned.bin'));
    for (let i = 0; i < 3; i++) q.release(q.take()!);
    expect(q.take()).toBeUndefined();
    expect(q.size).toBe(0);

    q.push(notification('old.bin'));
    clock += 3_600_001;
    expect(q.take()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('when the hub restarts on its data dir, then what the service has not completed is offered again, with the deliveries it already had', () => {
    const dir = mkdtempSync(join(tmpdir(), 'file-notifications-'));
    try {
      const file = join(dir, 'file-notifications.json');
      const before = queue(file);
      before.push(notification('a'));
      before.push(notification('b'));
      before.done(before.take()!);
      // b is taken, and the hub stops before the service settles it.
      expect(before.take()!.notification.blobName).toBe('d1/b');
      before.close();

      const after = queue(file);
      expect(after.size).toBe(1);
      // Its lock did not survive; its first delivery did (3 at most: two more).
      const second = after.take()!;
      expect(second.notification.blobName).toBe('d1/b');
      after.release(second);
      after.release(after.take()!);
      expect(after.size).toBe(0);
      // A new notification's sequence follows the old ones.
      after.push(notification('c'));
      expect(after.take()!.seq).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
