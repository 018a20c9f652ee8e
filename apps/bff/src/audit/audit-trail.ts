import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
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
  result: 'succeeded' | 'refused' | 'failed';
  after?: AuditEntry['after'];
  error?: { code: string; message: string };
}

type Line =
  | ({ phase: 'attempt'; id: string; at: string } & AuditStart)
  | ({ phase: 'outcome'; id: string; at: string } & AuditOutcome);

const targetKey = (t: { deviceId: string; moduleId?: string }) =>
  t.moduleId === undefined ? t.deviceId : `${t.deviceId}/${t.moduleId}`;

/**
 * The audit trail, as JSON lines appended to one file and flushed to disk before the BFF
 * answers. A write is recorded in two steps: the attempt before the hub is called, the
 * outcome after. So a write that reached the hub is never missing from the trail: if the
 * BFF dies in between, the attempt remains and reads as outcome `unknown`. If the trail
 * cannot be written, the write is refused before the hub is called.
 */
export class AuditTrail {
  private readonly entries = new Map<string, AuditEntry>();
  private readonly byTarget = new Map<string, string[]>();
  private fd: number | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    if (existsSync(file)) {
      for (const text of readFileSync(file, 'utf8').split('\n')) {
        if (!text.trim()) continue;
        try {
          this.apply(JSON.parse(text) as Line);
        } catch {
          // A line torn by a crash mid-append: the lines before it stand.
        }
      }
    } else {
      mkdirSync(dirname(file), { recursive: true });
    }
    this.fd = openSync(file, 'a', 0o600);
  }

  private apply(line: Line): void {
    if (line.phase === 'attempt') {
      const { phase: _phase, ...start } = line;
      this.entries.set(line.id, { ...start, result: 'unknown' });
      const key = targetKey(line.target);
      const ids = this.byTarget.get(key) ?? [];
      ids.push(line.id);
      this.byTarget.set(key, ids);
      return;
    }
    const entry = this.entries.get(line.id);
    if (!entry) return;
    const { phase: _phase, id: _id, at, ...outcome } = line;
    Object.assign(entry, outcome, { finishedAt: at });
  }

  private append(line: Line): void {
    if (this.fd === undefined) throw new Error('the audit trail is closed');
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fdatasyncSync(this.fd);
    this.apply(line);
  }

  /** Records an attempt; refuses (503) when the trail cannot be written, before any change. */
  begin(start: AuditStart): { end(outcome: AuditOutcome): void; id: string } {
    const id = randomUUID();
    try {
      this.append({ phase: 'attempt', id, at: new Date().toISOString(), ...start });
    } catch (error) {
      this.logger.error('audit trail write failed; the change was refused', {
        message: (error as Error).message,
      });
      throw new AppError(
        'hub_unreachable',
        'The audit trail cannot be written, so nothing was changed. Ask an administrator to check the BFF.',
      );
    }
    return {
      id,
      end: (outcome) => {
        try {
          this.append({ phase: 'outcome', id, at: new Date().toISOString(), ...outcome });
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

  /** One twin's (or module's) history, newest first. */
  forTarget(target: { deviceId: string; moduleId?: string }, limit = 100): AuditEntry[] {
    const ids = this.byTarget.get(targetKey(target)) ?? [];
    return ids
      .slice(-limit)
      .reverse()
      .map((id) => this.entries.get(id)!);
  }

  /** Every entry, oldest first (for export). */
  all(): IterableIterator<AuditEntry> {
    return this.entries.values();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Runs a write between its attempt and outcome records. */
export async function audited<T>(
  trail: AuditTrail,
  start: AuditStart,
  write: () => Promise<T>,
  after: (result: T) => AuditEntry['after'] = () => undefined,
): Promise<T> {
  const record = trail.begin(start);
  try {
    const result = await write();
    const versions = after(result);
    record.end({ result: 'succeeded', ...(versions ? { after: versions } : {}) });
    return result;
  } catch (error) {
    const code = error instanceof AppError ? error.code : 'internal_error';
    const refused = [
      'conflict',
      'twin_rule_violation',
      'forbidden',
      'bad_request',
      'validation_failed',
      'not_found',
    ];
    record.end({
      result: refused.includes(code) ? 'refused' : 'failed',
      error: {
        code,
        message: error instanceof AppError ? error.message : 'The write failed.',
      },
    });
    throw error;
  }
}
