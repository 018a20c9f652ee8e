import rhea, { type EventContext, type Message, type Receiver } from 'rhea';
import { D2C_MAX_BYTES, messageSize } from '../devices/message-size.ts';
import type { Registry } from '../store/registry.ts';
import { ADDRESS, identityOf, matchIdentity } from './addresses.ts';
import { CONDITION } from './connection.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkHandlers, LinkRoute } from './links.ts';
import { bodyBytes, messageProperties } from './messages.ts';

/**
 * A batch's message format (Microsoft's, 0x80013700): each data section of its body is one
 * whole encoded message.
 */
const BATCH_FORMAT = 0x80013700;

/**
 * The messages a delivery holds: itself, or each message of a batch (each data section one
 * whole encoded message). rhea decodes only format 0 and hands other formats over as bytes.
 * Undefined: a format IoT Hub does not take.
 */
function batchedMessages(context: EventContext): Message[] | undefined {
  const format = context.delivery?.format ?? 0;
  if (format === 0) return [context.message!];
  const raw: unknown = context.message;
  if (format !== BATCH_FORMAT || !Buffer.isBuffer(raw)) return undefined;
  const decoded = (bytes: Buffer): Message => {
    const message = rhea.message.decode(bytes);
    // rhea's decoder types a message without its body, which it does decode.
    return { ...message, body: Reflect.get(message, 'body') };
  };
  const body: unknown = decoded(raw).body;
  const content = body && typeof body === 'object' && 'content' in body ? body.content : undefined;
  const sections: unknown[] = Array.isArray(content) ? content : [content];
  if (!sections.every(Buffer.isBuffer)) return undefined;
  return sections.map(decoded);
}

/**
 * Telemetry and module output events (`devices/{id}[/modules/{mid}]/messages/events`): each
 * message, or each message of a batch, becomes one event on the built-in endpoint.
 */
export function telemetryRoutes(deps: {
  registry: Registry;
  authority: LinkAuthority;
}): LinkRoute[] {
  const { registry, authority } = deps;
  return [
    {
      role: 'receiver',
      match: (address) => matchIdentity(ADDRESS.telemetry, address),
      open: (link, params, connection): LinkHandlers => {
        const identity = identityOf(params);
        authority.authorizeDevice(link as Receiver, identity, connection);
        return {
          message(context: EventContext) {
            // A batch (the C SDK sends nothing else; .NET's SendEventBatch) is one event per
            // message it holds, each with its own properties and each within the size limit.
            const messages = batchedMessages(context);
            if (!messages?.length) {
              context.delivery?.reject({
                condition: CONDITION.notImplemented,
                description: `Message format ${context.delivery?.format} is not one IoT Hub takes: a message, or a batch (0x80013700) of data sections that each hold one.`,
              });
              return;
            }
            const events = messages.map((message) => ({
              payload: bodyBytes(message),
              properties: messageProperties(message),
            }));
            const sizes = events.map(({ payload, properties }) => messageSize(payload, properties));
            const oversized = sizes.findIndex((size) => size > D2C_MAX_BYTES);
            // A batch is one message to IoT Hub too: 256 KB in all.
            const total = sizes.reduce((n, size) => n + size, 0);
            if (oversized < 0 && total > D2C_MAX_BYTES) {
              context.delivery?.reject({
                condition: CONDITION.messageSize,
                description: `A batch is limited to ${D2C_MAX_BYTES / 1024} KB in all; this one holds ${Math.ceil(total / 1024)} KB, so none of it was taken.`,
              });
              return;
            }
            if (oversized >= 0) {
              context.delivery?.reject({
                condition: CONDITION.messageSize,
                description: `Messages are limited to ${D2C_MAX_BYTES / 1024} KB${events.length > 1 ? `; message ${oversized + 1} of this batch is larger, so none of it was taken` : ''}.`,
              });
              return;
            }
            registry.touch(identity.deviceId, identity.moduleId);
            for (const { payload, properties } of events)
              registry.recordMessage(identity.deviceId, identity.moduleId, payload, properties);
            context.delivery?.accept();
          },
        };
      },
    },
  ];
}
