import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { IdentityRecord } from './model.ts';
import { keepPrivate, openPrivateFile } from './private-files.ts';

export interface Counters {
  /** Source of etags and generation ids; only grows. */
  etag: number;
  /** Sequence number of the last change-log entry. */
  sequence: number;
}

export type Operation =
  { put: IdentityRecord } | { delete: { deviceId: string; moduleId?: string } };

export interface Transaction {
  counters: Counters;
  operations: Operation[];
}

export interface LoadedState {
  records: IdentityRecord[];
  counters: Counters;
}

/** Where the registry keeps its state. `commit` returns only once the write is safe. */
export interface Persistence {
  load(): LoadedState;
  commit(transaction: Transaction): void;
  /** Replaces everything with the given records (used by compaction and bulk seeding). */
  rewrite(records: Iterable<IdentityRecord>, counters: Counters): void;
  close(): void;
}

export class MemoryPersistence implements Persistence {
  load(): LoadedState {
    return { records: [], counters: { etag: 0, sequence: 0 } };
  }
  commit(): void {}
  rewrite(): void {}
  close(): void {}
}

const CHUNK = 8 * 1024 * 1024;

/** Calls `onLine` for every complete line of a file without reading it into one string. */
function forEachLine(path: string, onLine: (line: string, isLast: boolean) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    let carry = '';
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      const text = carry + buffer.toString('utf8', 0, read);
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line, false);
    }
    // A line without its newline was cut off mid-write, so it was never acknowledged.
    if (carry) onLine(carry, true);
  } finally {
    closeSync(fd);
  }
}

function recordKey(deviceId: string, moduleId?: string): string {
  return moduleId === undefined ? deviceId : `${deviceId}\u0000${moduleId}`;
}

/**
 * A snapshot plus an append-only journal of JSON lines. Each transaction is one line,
 * written with a single write() before the request is answered, so a process killed at
 * any moment keeps every acknowledged write; `fsync` also survives power loss.
 * See DESIGN.md.
 */
export class JournalPersistence implements Persistence {
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private journalFd: number | undefined;
  private journalBytes = 0;

  constructor(
    directory: string,
    private readonly options: { fsync: boolean; compactAfterBytes: number },
  ) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    this.snapshotPath = join(directory, 'snapshot.jsonl');
    this.journalPath = join(directory, 'journal.jsonl');
    // Identities carry their keys: the snapshot is only read, so tighten it here.
    keepPrivate(this.snapshotPath);
  }

  load(): LoadedState {
    const records = new Map<string, IdentityRecord>();
    let counters: Counters = { etag: 0, sequence: 0 };
    if (existsSync(this.snapshotPath)) {
      let header = true;
      forEachLine(this.snapshotPath, (line, isLast) => {
        if (isLast) throw new Error(`${this.snapshotPath} is truncated`);
        if (header) {
          counters = (JSON.parse(line) as { counters: Counters }).counters;
          header = false;
          return;
        }
        const record = JSON.parse(line) as IdentityRecord;
        records.set(recordKey(record.deviceId, record.moduleId), record);
      });
    }
    if (existsSync(this.journalPath)) {
      forEachLine(this.journalPath, (line, isLast) => {
        let transaction: Transaction;
        try {
          transaction = JSON.parse(line) as Transaction;
        } catch (error) {
          if (isLast) return;
          throw error;
        }
        counters = transaction.counters;
        for (const operation of transaction.operations) {
          if ('put' in operation) {
            records.set(recordKey(operation.put.deviceId, operation.put.moduleId), operation.put);
          } else if (operation.delete.moduleId === undefined) {
            const { deviceId } = operation.delete;
            for (const [key, record] of records)
              if (record.deviceId === deviceId) records.delete(key);
          } else {
            records.delete(recordKey(operation.delete.deviceId, operation.delete.moduleId));
          }
        }
      });
      this.journalBytes = statSync(this.journalPath).size;
    }
    return { records: [...records.values()], counters };
  }

  private openJournal(): number {
    this.journalFd ??= openPrivateFile(this.journalPath, 'a');
    return this.journalFd;
  }

  get shouldCompact(): boolean {
    return this.journalBytes > this.options.compactAfterBytes;
  }

  commit(transaction: Transaction): void {
    const line = Buffer.from(`${JSON.stringify(transaction)}\n`);
    const fd = this.openJournal();
    let written = 0;
    while (written < line.length) written += writeSync(fd, line, written);
    if (this.options.fsync) fsyncSync(fd);
    this.journalBytes += line.length;
  }

  rewrite(records: Iterable<IdentityRecord>, counters: Counters): void {
    const temporary = `${this.snapshotPath}.tmp`;
    const fd = openPrivateFile(temporary, 'w');
    try {
      let batch = `${JSON.stringify({ version: 1, counters })}\n`;
      for (const record of records) {
        batch += `${JSON.stringify(record)}\n`;
        if (batch.length > 4 * 1024 * 1024) {
          writeSync(fd, batch);
          batch = '';
        }
      }
      writeSync(fd, batch);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The new snapshot holds everything the journal held, so the journal can go. A crash
    // between the rename and the truncation replays puts and deletes that are idempotent.
    renameSync(temporary, this.snapshotPath);
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = openPrivateFile(this.journalPath, 'w');
    fsyncSync(this.journalFd);
    this.journalBytes = 0;
  }

  close(): void {
    if (this.journalFd !== undefined) closeSync(this.journalFd);
    this.journalFd = undefined;
  }
}
