import { purgeCloudToDeviceQueue } from '@twinscope/hub-connection';
import { parseJson } from '@twinscope/twin';
import common from 'azure-iot-common';
import type { CallContext } from '../../core/call-context.ts';
import type { CloudMessage, FeedbackRecord, HubMessaging } from '../hub-adapter.ts';
import { checkIds } from './call.ts';
import { closeWithin } from './clients.ts';
import type { HubParts } from './parts.ts';

function isFeedbackRecord(record: unknown): record is FeedbackRecord {
  return (
    typeof record === 'object' &&
    record !== null &&
    'originalMessageId' in record &&
    typeof record.originalMessageId === 'string'
  );
}

/** Cloud-to-device messages over the service client's AMQP link, and the hub's feedback. */
export function messagingOperations({ calls, clients }: HubParts): HubMessaging {
  return {
    async sendCloudMessage(
      deviceId: string,
      message: CloudMessage,
      context?: CallContext,
    ): Promise<void> {
      checkIds(deviceId);
      const outgoing = new common.Message(message.body);
      outgoing.messageId = message.messageId;
      outgoing.ack = message.ack;
      if (message.correlationId) outgoing.correlationId = message.correlationId;
      // The hub carries any content type and encoding; the SDK's typing names only a few.
      Object.assign(outgoing, {
        ...(message.contentType ? { contentType: message.contentType } : {}),
        ...(message.contentEncoding ? { contentEncoding: message.contentEncoding } : {}),
      });
      // In epoch milliseconds: the AMQP layer writes a Date as if it were a 64-bit buffer.
      if (message.expiresAt) outgoing.expiryTimeUtc = message.expiresAt.getTime();
      for (const [name, value] of Object.entries(message.properties))
        outgoing.properties.add(name, value);
      await calls.call(
        `Device ${deviceId}`,
        'write',
        { cloudToDevice: 1 },
        context,
        async (sdk) => {
          const client = clients.service();
          try {
            await sdk(() => client.send(deviceId, outgoing));
          } catch (error) {
            // Not an answer from the hub (a fault in the client itself): its AMQP state cannot
            // be trusted, so the next send starts a fresh client instead of queueing behind it.
            if (!(error instanceof Error) || error.constructor === TypeError)
              clients.dropService(client);
            throw error;
          }
        },
      );
    },

    async purgeCloudMessages(deviceId: string, context?: CallContext): Promise<number> {
      checkIds(deviceId);
      return calls.call(
        `Device ${deviceId}`,
        'write',
        { cloudToDevice: 1 },
        context,
        async (sdk) => {
          const { totalMessagesPurged } = await sdk(() =>
            purgeCloudToDeviceQueue(clients.registry, deviceId),
          );
          return totalMessagesPurged;
        },
      );
    },

    receiveFeedback(handlers: {
      records(records: FeedbackRecord[]): void;
      error(message: string): void;
    }): { stop(): Promise<void> } {
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      // Its own connection: a send that breaks the sending client leaves feedback running.
      const client = clients.newServiceClient();
      const attach = async () => {
        try {
          await client.open();
          const { result: receiver } = await client.getFeedbackReceiver();
          receiver.on('message', (message: common.Message) => {
            try {
              const parsed = parseJson(message.data.toString('utf8'));
              handlers.records(
                (Array.isArray(parsed) ? parsed : []).flatMap((r) =>
                  isFeedbackRecord(r) ? [r] : [],
                ),
              );
            } catch {
              handlers.error('a feedback batch was not JSON; it was dropped');
            }
            receiver.complete(message, () => undefined);
          });
          receiver.on('error', (error: Error) => again(error.message));
        } catch (error) {
          again(error instanceof Error ? error.message : 'the feedback receiver failed');
        }
      };
      const again = (message: string) => {
        if (stopped) return;
        handlers.error(message);
        clearTimeout(retry);
        retry = setTimeout(() => void attach(), 5000);
        retry.unref();
      };
      client.on('disconnect', () => again('the service connection to the hub dropped'));
      void attach();
      return {
        async stop() {
          stopped = true;
          clearTimeout(retry);
          await closeWithin(client, 1000);
        },
      };
    },
  };
}
