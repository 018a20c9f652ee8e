import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudToDeviceJournal } from './c2d-journal.ts';
import type { CloudMessage } from './cloud-message.ts';

describe('CloudToDeviceJournal', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const message = (seq: number): CloudMessage => ({
    seq,
    deviceId: 'd1',
    ack: 'none',
    properties: {},
    body: Buffer.from(`message ${seq}`),
    enqueuedTime: 0,
    expiryTime: Number.MAX_SAFE_INTEGER,
    deliveryCount: 0,
  });

  it('when the journal compacts while messages are sent, then every message sent survives a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2d-journal-'));
    dirs.push(dir);
    const file = join(dir, 'c2d.jsonl');
    // The queue as CloudToDevice keeps it: a change is journaled, then made in memory.
    let live: CloudMessage[] = [];
    const journal = new CloudToDeviceJournal(file, {
      seq: () => Math.max(0, ...live.map((m) => m.seq)),
      messages: () => live,
      batches: () => [],
      count: () => live.length,
    });
    journal.rewrite();
    // 5,000 messages sent and completed: 10,000 lines, the most a journal holds uncompacted.
    for (let seq = 1; seq <= 5000; seq++) {
      journal.enqueued(message(seq));
      live.push(message(seq));
      journal.done(seq);
      live = live.filter((m) => m.seq !== seq);
    }
    // The next two sends are where it compacts.
    for (const seq of [5001, 5002]) {
      journal.enqueued(message(seq));
      live.push(message(seq));
    }
    journal.close();

    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(10);
    const replayed = new CloudToDeviceJournal(file, {
      seq: () => 0,
      messages: () => [],
      batches: () => [],
      count: () => 0,
    }).replay();
    expect(replayed?.messages.map((m) => [m.seq, m.body.toString()])).toEqual([
      [5001, 'message 5001'],
      [5002, 'message 5002'],
    ]);
    expect(replayed?.seq).toBe(5002);
  });
});
