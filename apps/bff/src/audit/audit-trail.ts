import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { AuditAction, AuditEntry } from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';
import { AppError } from '../http/app-error.ts';
import type { Logger } from '../log.ts';

export interface Actor {
  id: string;
  name: string;
}

export interface AuditStart {
  actor: Actor;
  action: AuditAction;
  target: { deviceId: string; moduleId?: string };
  change: JsonObject;
  before?: AuditEntry['before'];
  revert?: AuditEntry['revert'];
  revertOf?: string;
}

export interface AuditOutcome {
  result: 'succeeded' | 'refused' | 'failed' | 'unknown';
  after?: AuditEntry['after'];
  response?: AuditEntry['response'];
  error?: { code: string; message: string };
}

type Line =
  | ({ phase: 'attempt'; id: string; at: string } & Omit<AuditEntry, 'id' | 'at' | 'result'>)
  | ({ phase: 'outcome'; id: string; at: string } & AuditOutcome);

/**
 * The most a record keeps of a change or of its revert patch. IoT Hub's twin rules already
 * bound a valid change; above this, the record keeps the patch's size and digest instead.
 */
export const MAX_RECORDED_BYTES = 32 * 1024;

const targetKey = (t: { deviceId: string; moduleId?: string }) =>
  t.moduleId === undefined ? t.deviceId : `${t.deviceId}/${t.moduleId}`;

/** Where each record's two lines sit in the file: attempt offset and length, outcome's. */
class Slots {
  private data = new Float64Array(4 * 1024);
  count = 0;

  add(offset: number, length: number): number {
    if ((this.count + 1) * 4 > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set([offset, length, -1, 0], this.count * 4);
    return this.count++;
  }

  setOutcome(slot: number, offset: number, length: number): void {
    this.data[slot * 4 + 2] = offset;
    this.data[slot * 4 + 3] = length;
  }

  get(slot: number): { attempt: [number, number]; outcome?: [number, number] } {
    const at = (i: number) => this.data[slot * 4 + i]!;
    return {
      attempt: [at(0), at(1)],
      ...(at(2) >= 0 ? { outcome: [at(2), at(3)] as [number, number] } : {}),
    };
  }
}

/** The size and digest a record keeps of a patch too large to keep whole. */
function capped(patch: JsonObject): { kept: JsonObject; digest?: AuditEntry['changeDigest'] } {
  const text = JSON.stringify(patch);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_RECORDED_BYTES) return { kept: patch };
  return {
    kept: {},
    digest: { sha256: createHash('sha256').update(text).digest('hex'), bytes },
  };
}

/**
 * The audit trail, as JSON lines appended to one file and flushed to disk before the BFF
 * answers. A write is recorded in two steps: the attempt before the hub is called, the
 * outcome after. So a write that reached the hub is never missing from the trail: if the
 * BFF dies in between, the attempt remains and reads as outcome `unknown`. If the trail
 * cannot be written, the write is refused before the hub is called.
 *
 * Entries stay on disk: the process keeps only where each one is (four numbers) and which
 * records belong to which twin, and reads the lines back when a history page asks.
 */
export class AuditTrail {
  private readonly slots = new Slots();
  private readonly byTarget = new Map<string, number[]>();
  /** A device's records and its modules', in order (a device's timeline). */
  private readonly byDevice = new Map<string, number[]>();
  private readonly listeners = new Set<(entry: AuditEntry) => void>();
  /** Attempts whose outcome has not been written yet (a crash leaves a few forever). */
  private readonly pending = new Map<string, number>();
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    if (!existsSync(file)) mkdirSync(dirname(file), { recursive: true });
    this.fd = openSync(file, 'a+', 0o600);
    this.index();
  }

  /** Reads the file once, remembering where each line is; a torn last line is skipped. */
  private index(): void {
    const fd = this.fd!;
    const total = fstatSync(fd).size;
    const chunk = Buffer.alloc(1024 * 1024);
    let carry = Buffer.alloc(0);
    let offset = 0;
    let lineStart = 0;
    while (offset < total) {
      const read = readSync(fd, chunk, 0, chunk.length, offset);
      if (read === 0) break;
      offset += read;
      let buffer = Buffer.concat([carry, chunk.subarray(0, read)]);
      let newline: number;
      while ((newline = buffer.indexOf(0x0a)) >= 0) {
        this.indexLine(buffer.subarray(0, newline), lineStart);
        lineStart += newline + 1;
        buffer = buffer.subarray(newline + 1);
      }
      carry = Buffer.from(buffer);
    }
    // A line torn by a crash mid-append: the lines before it stand; appends start after it.
    this.size = total;
  }

  private indexLine(bytes: Buffer, offset: number): void {
    let line: { phase?: string; id?: string; target?: { deviceId: string; moduleId?: string } };
    try {
      line = JSON.parse(bytes.toString('utf8')) as typeof line;
    } catch {
      return;
    }
    this.remember(line, offset, bytes.length);
  }

  private remember(
    line: { phase?: string; id?: string; target?: { deviceId: string; moduleId?: string } },
    offset: number,
    length: number,
  ): void {
    if (typeof line.id !== 'string') return;
    if (line.phase === 'attempt' && line.target) {
      const slot = this.slots.add(offset, length);
      this.pending.set(line.id, slot);
      const key = targetKey(line.target);
      const slots = this.byTarget.get(key) ?? [];
      slots.push(slot);
      this.byTarget.set(key, slots);
      const ofDevice = this.byDevice.get(line.target.deviceId) ?? [];
      ofDevice.push(slot);
      this.byDevice.set(line.target.deviceId, ofDevice);
    } else if (line.phase === 'outcome') {
      const slot = this.pending.get(line.id);
      if (slot === undefined) return;
      this.pending.delete(line.id);
      this.slots.setOutcome(slot, offset, length);
    }
  }

  private append(line: Line): void {
    if (this.fd === undefined) throw new Error('the audit trail is closed');
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
    fdatasyncSync(this.fd);
    const offset = this.size;
    this.size += bytes.length;
    this.remember(line, offset, bytes.length - 1);
  }

  /** Records an attempt; refuses (503) when the trail cannot be written, before any change. */
  begin(start: AuditStart): { end(outcome: AuditOutcome): void; id: string } {
    const id = randomUUID();
    const change = capped(start.change);
    const revertText = start.revert ? JSON.stringify(start.revert) : '';
    const keepRevert =
      start.revert !== undefined && Buffer.byteLength(revertText) <= MAX_RECORDED_BYTES;
    try {
      this.append({
        phase: 'attempt',
        id,
        at: new Date().toISOString(),
        actor: start.actor,
        action: start.action,
        target: start.target,
        change: change.kept,
        ...(change.digest ? { changeDigest: change.digest } : {}),
        ...(start.before ? { before: start.before } : {}),
        ...(keepRevert ? { revert: start.revert } : {}),
        ...(start.revert && !keepRevert ? { revertOmitted: true } : {}),
        ...(start.revertOf ? { revertOf: start.revertOf } : {}),
      });
    } catch (error) {
      this.logger.error('audit trail write failed; the change was refused', {
        message: (error as Error).message,
      });
      throw new AppError(
        'hub_unreachable',
        'The audit trail cannot be written, so nothing was changed. Ask an administrator to check the BFF.',
      );
    }
    const slot = this.pending.get(id)!;
    this.announce(slot);
    return {
      id,
      end: (outcome) => {
        try {
          this.append({ phase: 'outcome', id, at: new Date().toISOString(), ...outcome });
          this.announce(slot);
        } catch (error) {
          // The attempt is on disk; the entry reads as `unknown` rather than vanishing.
          this.logger.error('audit outcome write failed', {
            id,
            message: (error as Error).message,
          });
        }
      },
    };
  }

  /** Tells listeners (the live view) a record as it stands now; a listener's failure is its own. */
  private announce(slot: number): void {
    if (this.listeners.size === 0 || this.fd === undefined) return;
    const entry = this.entry(this.fd, slot);
    for (const listener of this.listeners) {
      try {
        listener(entry);
      } catch (error) {
        this.logger.warn('audit listener failed', { message: (error as Error).message });
      }
    }
  }

  /** Hears every record when its attempt is written and again with its outcome. */
  onRecord(listener: (entry: AuditEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readLine(fd: number, [offset, length]: [number, number]): Line {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return JSON.parse(buffer.toString('utf8')) as Line;
  }

  /** One record as the API shows it: its attempt, with its outcome when there is one. */
  private entry(fd: number, slot: number): AuditEntry {
    const where = this.slots.get(slot);
    const { phase: _phase, ...attempt } = this.readLine(fd, where.attempt) as Extract<
      Line,
      { phase: 'attempt' }
    >;
    if (!where.outcome) return { ...attempt, result: 'unknown' };
    const {
      phase: _outcomePhase,
      id: _id,
      at,
      ...outcome
    } = this.readLine(fd, where.outcome) as Extract<Line, { phase: 'outcome' }>;
    return { ...attempt, ...outcome, finishedAt: at };
  }

  /**
   * One twin's (or module's) history, newest first, a page at a time: `before` is the
   * cursor a previous page answered, and `next` the one for the page after this.
   */
  forTarget(
    target: { deviceId: string; moduleId?: string },
    page: { limit: number; before?: number } = { limit: 20 },
  ): { entries: AuditEntry[]; next?: number } {
    if (this.fd === undefined) throw new AppError('hub_unreachable', 'The audit trail is closed.');
    const slots = this.byTarget.get(targetKey(target)) ?? [];
    let end = slots.length;
    if (page.before !== undefined) {
      // Slots only grow, so the page starts below the cursor's slot.
      let low = 0;
      while (low < end) {
        const mid = (low + end) >> 1;
        if (slots[mid]! < page.before) low = mid + 1;
        else end = mid;
      }
    }
    const start = Math.max(0, end - page.limit);
    const entries = slots
      .slice(start, end)
      .reverse()
      .map((slot) => this.entry(this.fd!, slot));
    return { entries, ...(start > 0 ? { next: slots[start]! } : {}) };
  }

  /**
   * The newest entries of one action on a target (the recent direct methods of a device),
   * looking back at most `scan` entries of its history.
   */
  recent(
    target: { deviceId: string; moduleId?: string },
    action: AuditEntry['action'],
    limit: number,
    scan = 500,
  ): AuditEntry[] {
    if (this.fd === undefined) throw new AppError('hub_unreachable', 'The audit trail is closed.');
    const slots = this.byTarget.get(targetKey(target)) ?? [];
    const found: AuditEntry[] = [];
    for (let i = slots.length - 1; i >= Math.max(0, slots.length - scan); i--) {
      const entry = this.entry(this.fd, slots[i]!);
      if (entry.action !== action) continue;
      found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  /**
   * What was done to a device and its modules since a time, newest first, at most `limit`
   * (a device's timeline).
   */
  forDevice(deviceId: string, since: string, limit: number): AuditEntry[] {
    if (this.fd === undefined) throw new AppError('hub_unreachable', 'The audit trail is closed.');
    const slots = this.byDevice.get(deviceId) ?? [];
    const found: AuditEntry[] = [];
    for (let i = slots.length - 1; i >= 0 && found.length < limit; i--) {
      const entry = this.entry(this.fd, slots[i]!);
      // Records are appended in time order: the first older one ends the walk.
      if (entry.at < since) break;
      found.push(entry);
    }
    return found;
  }

  /** Every entry, oldest first (for export), read from disk one at a time. */
  *all(): Generator<AuditEntry> {
    for (let slot = 0; slot < this.slots.count; slot++) {
      if (this.fd === undefined) return;
      yield this.entry(this.fd, slot);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** How a write that threw is recorded: refused by a rule, failed, or of unknown outcome. */
export function failureOutcome(error: unknown): AuditOutcome {
  const code = error instanceof AppError ? error.code : 'internal_error';
  const refused = [
    'conflict',
    'twin_rule_violation',
    'forbidden',
    'bad_request',
    'validation_failed',
    'not_found',
    'throttled',
  ];
  return {
    // A write whose answer never came may have been applied: say so, not "failed".
    result: refused.includes(code)
      ? 'refused'
      : code === 'outcome_unknown' || code === 'device_timeout'
        ? 'unknown'
        : 'failed',
    error: {
      code,
      message: error instanceof AppError ? error.message : 'The write failed.',
    },
  };
}

/** Runs a write between its attempt and outcome records. */
export async function audited<T>(
  trail: AuditTrail,
  start: AuditStart,
  write: () => Promise<T>,
  after: (result: T) => AuditEntry['after'] = () => undefined,
  response: (result: T) => AuditEntry['response'] = () => undefined,
): Promise<T> {
  const record = trail.begin(start);
  try {
    const result = await write();
    const versions = after(result);
    const answered = response(result);
    record.end({
      result: 'succeeded',
      ...(versions ? { after: versions } : {}),
      ...(answered ? { response: answered } : {}),
    });
    return result;
  } catch (error) {
    record.end(failureOutcome(error));
    throw error;
  }
}
