import { closeSync, existsSync, fsyncSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { HubError } from '../errors.ts';
import { openPrivateFile } from '../store/private-files.ts';
import type { CloudMessage } from './cloud-message.ts';
import type { FeedbackBatch, FeedbackRecord } from './feedback.ts';

type LogLine =
  | { op: 'enqueue'; message: Omit<CloudMessage, 'body'> & { body: string } }
  | { op: 'done'; seq: number }
  | { op: 'delivered'; seq: number; deliveryCount: number }
  | { op: 'feedback'; batch: Omit<FeedbackBatch, 'records'> & { records: FeedbackRecord[] } }
  | { op: 'feedback-done'; seq: number }
  | { op: 'counter'; seq: number };

/** What is live, read when the journal is rewritten. */
export interface LiveState {
  seq(): number;
  messages(): Iterable<CloudMessage>;
  batches(): readonly FeedbackBatch[];
  /** Messages plus batches; asked on appends once the journal is long, so kept cheap. */
  count(): number;
}

/** What a journal held at start. */
export interface Replayed {
  /** The highest seq it mentions, so a restart never hands one out again. */
  seq: number;
  messages: CloudMessage[];
  batches: FeedbackBatch[];
}

function encode(message: CloudMessage): Omit<CloudMessage, 'body'> & { body: string } {
  return { ...message, body: message.body.toString('base64') };
}

/**
 * The queues' and feedback's durable log, `c2d.jsonl`: one JSON line per change, replayed on
 * start and rewritten from what is live when it has grown. Without a file every call is a
 * no-op and the queues live in memory only.
 */
export class CloudToDeviceJournal {
  private fd: number | undefined;
  private logLines = 0;

  constructor(
    private readonly file: string | undefined,
    private readonly live: LiveState,
  ) {}

  /** What the journal holds, or undefined when there is no journal file. */
  replay(): Replayed | undefined {
    const file = this.file;
    if (!file) return undefined;
    let seq = 0;
    const live = new Map<number, CloudMessage>();
    const batches = new Map<number, FeedbackBatch>();
    if (existsSync(file)) {
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
        if ('seq' in line) seq = Math.max(seq, line.seq);
        if (line.op === 'enqueue') seq = Math.max(seq, line.message.seq);
        if (line.op === 'feedback') seq = Math.max(seq, line.batch.seq);
      }
    }
    return { seq, messages: [...live.values()], batches: [...batches.values()] };
  }

  /** Writes what is live as a fresh journal (at start, and when the journal has grown). */
  rewrite(): void {
    const file = this.file;
    if (!file) return;
    const temporary = `${file}.tmp`;
    const fd = openPrivateFile(temporary, 'w');
    try {
      const lines: LogLine[] = [{ op: 'counter', seq: this.live.seq() }];
      for (const message of this.live.messages())
        lines.push({ op: 'enqueue', message: encode(message) });
      for (const batch of this.live.batches()) lines.push({ op: 'feedback', batch });
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

  enqueued(message: CloudMessage): void {
    this.append({ op: 'enqueue', message: encode(message) });
  }

  delivered(seq: number, deliveryCount: number): void {
    this.append({ op: 'delivered', seq, deliveryCount });
  }

  /** Completed, rejected, expired, purged or its device deleted: gone from its queue. */
  done(seq: number): void {
    this.append({ op: 'done', seq });
  }

  feedback(batch: FeedbackBatch): void {
    this.append({ op: 'feedback', batch });
  }

  feedbackDone(seq: number): void {
    this.append({ op: 'feedback-done', seq });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private append(line: LogLine): void {
    if (this.fd === undefined) return;
    // Compact before the line, never after: the queues make a change in memory only once its
    // line is written, so a rewrite right after it would leave that change out.
    if (this.logLines > 10_000 && this.logLines > 4 * this.live.count()) this.rewrite();
    try {
      writeSync(this.fd, `${JSON.stringify(line)}\n`);
    } catch (error) {
      throw new HubError(
        'ServiceUnavailable',
        `The emulator could not store the message: ${(error as Error).message}`,
      );
    }
    this.logLines++;
  }
}
