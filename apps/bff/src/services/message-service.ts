import { randomUUID } from 'node:crypto';
import type {
  CloudMessageSendRequest,
  FeedbackCode,
  MessageFeedbackEvent,
  SentMessage,
} from '@twinscope/contract';
import { FeedbackCodeSchema } from '@twinscope/contract';
import type { FeedbackRecord, HubAdapter } from '../adapters/hub-adapter.ts';
import type { CallContext } from '../core/call-context.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import type { Logger } from '../log.ts';

/** Feedback kept per message id, newest last; older ones are forgotten past this. */
const KEPT_FEEDBACK = 20_000;

/**
 * Cloud-to-device messages (send: Operator; purge: Admin). Each send is audited with the
 * message id the BFF gives it, so the hub's feedback can be matched to it and shown.
 */
export class MessageService {
  private readonly feedback = new Map<
    string,
    { statusCode: FeedbackCode; description: string; at: string }
  >();

  constructor(
    private readonly hub: HubAdapter,
    private readonly audit: AuditTrail,
    private readonly logger: Logger,
    /** Where feedback goes live (the live hub, then tabs watching the device). */
    private readonly feedbackHeard: (event: MessageFeedbackEvent) => void,
    /** Whether this BFF reads the hub's feedback. */
    readonly feedbackOn: boolean,
  ) {}

  async send(
    deviceId: string,
    request: CloudMessageSendRequest,
    actor: Actor,
    context: CallContext,
  ): Promise<{ messageId: string }> {
    const messageId = request.messageId ?? randomUUID();
    await audited(
      this.audit,
      {
        actor,
        action: 'message.send',
        target: { deviceId },
        // The message's shape, not its body: bodies can be large and are the device's business.
        change: {
          messageId,
          ack: request.ack,
          format: request.format,
          bodyBytes: Buffer.byteLength(request.body),
          properties: Object.keys(request.properties),
          ...(request.correlationId ? { correlationId: request.correlationId } : {}),
          ...(request.expiresInSeconds ? { expiresInSeconds: request.expiresInSeconds } : {}),
        },
      },
      () =>
        this.hub.sendCloudMessage(
          deviceId,
          {
            body: request.body,
            ...(request.format === 'json'
              ? { contentType: 'application/json', contentEncoding: 'utf-8' }
              : {}),
            messageId,
            ...(request.correlationId ? { correlationId: request.correlationId } : {}),
            ...(request.expiresInSeconds
              ? { expiresAt: new Date(Date.now() + request.expiresInSeconds * 1000) }
              : {}),
            ack: request.ack,
            properties: request.properties,
          },
          context,
        ),
    );
    return { messageId };
  }

  purge(deviceId: string, actor: Actor, context: CallContext): Promise<number> {
    return audited(
      this.audit,
      { actor, action: 'message.purge', target: { deviceId }, change: {} },
      () => this.hub.purgeCloudMessages(deviceId, context),
    );
  }

  /** Messages waiting in the device's queue (its identity's cloudToDeviceMessageCount). */
  async queued(deviceId: string, context: CallContext): Promise<number> {
    return (await this.hub.getDevice(deviceId, context)).cloudToDeviceMessageCount ?? 0;
  }

  /** The messages sent from Twinscope to this device, newest first, with their feedback. */
  async recent(deviceId: string, limit = 20): Promise<SentMessage[]> {
    return (await this.audit.recent({ deviceId }, 'message.send', limit)).map((entry) => {
      const messageId = String(entry.change['messageId'] ?? '');
      const feedback = this.feedback.get(messageId);
      return {
        id: entry.id,
        at: entry.at,
        actor: entry.actor,
        messageId,
        ack: String(entry.change['ack'] ?? 'none'),
        result: entry.result,
        ...(entry.error ? { error: entry.error } : {}),
        ...(feedback ? { feedback } : {}),
      };
    });
  }

  /** The hub's feedback on a message sent from Twinscope, if it came while this BFF ran. */
  feedbackFor(deviceId: string, messageId: string): MessageFeedbackEvent | undefined {
    const feedback = this.feedback.get(messageId);
    return feedback ? { type: 'message-feedback', deviceId, messageId, ...feedback } : undefined;
  }

  /** A batch of the hub's feedback: kept for the list, and told to the device's tabs. */
  recordFeedback(records: FeedbackRecord[]): void {
    for (const record of records) {
      const statusCode = FeedbackCodeSchema.safeParse(record.statusCode);
      if (!statusCode.success) {
        this.logger.warn('unknown feedback status', { statusCode: record.statusCode });
        continue;
      }
      const at = record.enqueuedTimeUtc || new Date().toISOString();
      if (this.feedback.size >= KEPT_FEEDBACK)
        this.feedback.delete(this.feedback.keys().next().value!);
      this.feedback.set(record.originalMessageId, {
        statusCode: statusCode.data,
        description: record.description,
        at,
      });
      this.feedbackHeard({
        type: 'message-feedback',
        deviceId: record.deviceId,
        messageId: record.originalMessageId,
        statusCode: statusCode.data,
        description: record.description,
        at,
      });
    }
  }
}
