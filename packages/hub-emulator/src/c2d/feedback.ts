import type { Registry } from '../store/registry.ts';
import {
  C2D_LIMITS,
  type AckMode,
  type CloudMessage,
  type DeliveryListener,
} from './cloud-message.ts';

export type FeedbackCode = 'Success' | 'Expired' | 'DeliveryCountExceeded' | 'Rejected' | 'Purged';

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

const DESCRIPTIONS: Record<FeedbackCode, string> = {
  Success: 'Success',
  Expired: 'Message expired',
  DeliveryCountExceeded: 'Message delivery count exceeded',
  Rejected: 'Message rejected',
  Purged: 'Message purged',
};

/** Whether a message's `ack` asks for feedback on this outcome. */
export function wantsFeedback(ack: AckMode, outcome: FeedbackCode): boolean {
  return (
    ack === 'full' ||
    (ack === 'positive' && outcome === 'Success') ||
    (ack === 'negative' && outcome !== 'Success')
  );
}

/** Where feedback batches are kept durably (c2d-journal.ts). */
export interface FeedbackJournal {
  feedback(batch: FeedbackBatch): void;
  feedbackDone(seq: number): void;
}

/**
 * Acknowledgements on their way to the service's feedback receiver: records wait to be
 * batched, and each batch waits until the service completes it.
 */
export class FeedbackQueue {
  private readonly waiting: FeedbackBatch[] = [];
  private readonly listeners = new Set<DeliveryListener>();
  private pendingRecords: FeedbackRecord[] = [];
  private batchTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      registry: Registry;
      journal: FeedbackJournal;
      /** Messages and batches draw on one counter, journaled as one. */
      nextSeq: () => number;
      now: () => number;
      /** How long a feedback batch waits for more records (IoT Hub: up to 15 s). */
      batchMs: number;
    },
  ) {}

  /** Batches replayed from the journal, still owed to the service. */
  restore(batches: Iterable<FeedbackBatch>): void {
    this.waiting.push(...batches);
  }

  record(message: CloudMessage, outcome: FeedbackCode): void {
    this.pendingRecords.push({
      originalMessageId: message.messageId ?? '',
      enqueuedTimeUtc: new Date(this.deps.now()).toISOString(),
      statusCode: outcome,
      description: DESCRIPTIONS[outcome],
      deviceId: message.deviceId,
      deviceGenerationId: this.deps.registry.find(message.deviceId)?.generationId ?? '',
    });
    if (this.pendingRecords.length >= C2D_LIMITS.feedbackBatch) this.flush();
    else this.batchTimer ??= setTimeout(() => this.flush(), this.deps.batchMs);
  }

  flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.pendingRecords.length === 0) return;
    const batch: FeedbackBatch = {
      seq: this.deps.nextSeq(),
      enqueuedTime: this.deps.now(),
      records: this.pendingRecords,
    };
    this.pendingRecords = [];
    this.deps.journal.feedback(batch);
    this.waiting.push(batch);
    for (const listener of [...this.listeners]) listener();
  }

  onFeedback(listener: DeliveryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Feedback batches waiting for the service, oldest first (not yet locked by a receiver). */
  batches(): readonly FeedbackBatch[] {
    return this.waiting;
  }

  /** The service completed a batch: gone for good. */
  done(seq: number): void {
    const at = this.waiting.findIndex((batch) => batch.seq === seq);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.deps.journal.feedbackDone(seq);
  }
}
