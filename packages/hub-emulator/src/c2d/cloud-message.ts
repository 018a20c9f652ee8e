import { messageSize } from '../devices/message-size.ts';
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

/** Who gets told that an identity's queue has something to deliver. */
export type DeliveryListener = () => void;

/** The size IoT Hub holds against `C2D_LIMITS.messageBytes`: body plus property names and values. */
export function messageBytes(outgoing: OutgoingMessage): number {
  return messageSize(outgoing.body, outgoing.properties);
}
