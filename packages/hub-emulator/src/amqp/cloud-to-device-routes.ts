import rhea, {
  type Delivery,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import type {
  CloudMessage,
  CloudToDevice,
  AckMode,
  OutgoingMessage,
} from '../c2d/cloud-to-device.ts';
import type { FeedbackBatch } from '../c2d/feedback.ts';
import type { Identity } from '../devices/device-sessions.ts';
import { asHubError, HubError } from '../errors.ts';
import { CONDITION, type AmqpConnection } from './connection.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkHandlers, LinkRoute } from './links.ts';
import { ADDRESS, entityPath, identityOf, matchIdentity } from './addresses.ts';
import { bodyBytes, correlationText, text, uuidBytes } from './messages.ts';
import { serviceBoundSender } from './service-bound.ts';

export interface CloudToDeviceRouteDeps {
  c2d: CloudToDevice;
  /** The hub's name, in feedback messages' user id. */
  hubName: string;
  authority: LinkAuthority;
}

const ACK_MODES: readonly AckMode[] = ['none', 'positive', 'negative', 'full'];

/** A lock token as the 16 bytes of its GUID: C# reads the delivery tag as the lock token. */

/** A queued message as a device receives it over AMQP. */
function toDevice(message: CloudMessage, lockToken: string): Message {
  return {
    ...(message.messageId !== undefined ? { message_id: message.messageId } : {}),
    ...(message.correlationId !== undefined ? { correlation_id: message.correlationId } : {}),
    ...(message.userId !== undefined ? { user_id: message.userId } : {}),
    ...(message.contentType !== undefined ? { content_type: message.contentType } : {}),
    ...(message.contentEncoding !== undefined ? { content_encoding: message.contentEncoding } : {}),
    to: `/devices/${encodeURIComponent(message.deviceId)}/messages/devicebound`,
    absolute_expiry_time: new Date(message.expiryTime),
    application_properties: { ...message.properties, 'iothub-ack': message.ack },
    message_annotations: {
      'iothub-enqueuedtime': new Date(message.enqueuedTime),
      'iothub-deliverycount': rhea.types.wrap_ubyte(message.deliveryCount),
      'x-opt-lock-token': lockToken,
      'x-opt-sequence-number': rhea.types.wrap_ulong(message.seq),
    },
    body: rhea.message.data_section(message.body),
  } as Message;
}

/** What the service sent, read into a queue message; a malformed one is an argument error. */
function fromService(message: Message): { identity: Identity; outgoing: OutgoingMessage } {
  const target = text(message.to) ?? '';
  // Read like a link address: `/devices/d/messages/devicebound`, with or without the host.
  const params = matchIdentity(ADDRESS.cloudToDevice, entityPath(target));
  if (!params) {
    throw new HubError(
      'ArgumentInvalid',
      `The message's "to" must be /devices/{deviceId}/messages/devicebound, not "${target}".`,
    );
  }
  const identity = identityOf(params);
  if (identity.moduleId !== undefined) {
    throw new HubError(
      'ArgumentInvalid',
      'The emulator does not send cloud-to-device messages to modules (IoT Edge routes them).',
    );
  }
  const properties: Record<string, string> = {};
  let ack: AckMode = 'none';
  for (const [key, value] of Object.entries(message.application_properties ?? {})) {
    if (value === undefined || value === null) continue;
    if (key === 'iothub-ack') {
      const mode = String(value).toLowerCase() as AckMode;
      if (!ACK_MODES.includes(mode))
        throw new HubError('ArgumentInvalid', `iothub-ack must be one of ${ACK_MODES.join(', ')}.`);
      ack = mode;
    } else properties[key] = String(value);
  }
  const expiry = message.absolute_expiry_time as unknown;
  const expiryTime =
    expiry instanceof Date ? expiry.getTime() : typeof expiry === 'number' ? expiry : undefined;
  const messageId = correlationText(message.message_id) ?? text(message.message_id);
  const correlationId = correlationText(message.correlation_id) ?? text(message.correlation_id);
  const userId = text(message.user_id);
  const contentType = text(message.content_type);
  const contentEncoding = text(message.content_encoding);
  return {
    identity,
    outgoing: {
      ...(messageId !== undefined ? { messageId } : {}),
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(userId !== undefined ? { userId } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(contentEncoding !== undefined ? { contentEncoding } : {}),
      ...(expiryTime !== undefined ? { expiryTime } : {}),
      ack,
      properties,
      body: bodyBytes(message),
    },
  };
}

/** IoT Hub's refusal of a send as the AMQP condition the service SDK maps. */
function conditionOf(error: HubError): string {
  switch (error.code) {
    case 'DeviceNotFound':
      return CONDITION.notFound;
    case 'DeviceMaximumQueueDepthExceeded':
      return CONDITION.resourceLimit;
    case 'RequestEntityTooLarge':
      return CONDITION.messageSize;
    case 'ArgumentInvalid':
      return CONDITION.argument;
    default:
      return CONDITION.internal;
  }
}

/**
 * Cloud-to-device messaging over AMQP: the device's receiver (each delivery a lock, settled
 * by its disposition: accepted completes, rejected dead-letters, released or modified
 * abandons), the service's sender on `/messages/devicebound`, and its feedback receiver on
 * `/messages/serviceBound/feedback`.
 */
export function cloudToDeviceRoutes(deps: CloudToDeviceRouteDeps): LinkRoute[] {
  const { c2d } = deps;
  /** Feedback batches handed to a receiver and not yet settled, by batch. */
  const feedbackInFlight = new Set<number>();

  const deviceReceiver = (sender: Sender, identity: Identity, connection: AmqpConnection) => {
    deps.authority.authorizeDevice(sender, identity, connection);
    const inFlight = new Map<Delivery, string>();
    const pump = () => {
      while (sender.is_open() && sender.sendable()) {
        const next = c2d.next(identity);
        if (!next) return;
        const delivery = sender.send(
          toDevice(next.message, next.lockToken),
          uuidBytes(next.lockToken),
        );
        inFlight.set(delivery, next.lockToken);
      }
    };
    const stop = c2d.onMessage(identity, pump);
    pump();
    return {
      sendable: pump,
      settled(outcome, context: EventContext) {
        const delivery = context.delivery;
        const lockToken = delivery ? inFlight.get(delivery) : undefined;
        if (!delivery || lockToken === undefined) return;
        inFlight.delete(delivery);
        try {
          if (outcome === 'accepted') c2d.complete(identity, lockToken);
          else if (outcome === 'rejected') c2d.reject(identity, lockToken);
          else c2d.abandon(identity, lockToken);
        } catch {
          // The lock ran out meanwhile: the message is enqueued again already.
        }
      },
      closed() {
        stop();
        for (const lockToken of inFlight.values()) c2d.release(lockToken);
        inFlight.clear();
      },
    } satisfies LinkHandlers;
  };

  const serviceSender = (receiver: Receiver, connection: AmqpConnection): LinkHandlers => {
    deps.authority.authorizeService(receiver, connection);
    return {
      message(context: EventContext) {
        try {
          const { identity, outgoing } = fromService(context.message!);
          c2d.enqueue(identity, outgoing);
          context.delivery?.accept();
        } catch (error) {
          const hubError = asHubError(error);
          context.delivery?.reject({
            condition: conditionOf(hubError),
            description: hubError.message,
          });
        }
      },
    };
  };

  const feedbackReceiver = (sender: Sender, connection: AmqpConnection): LinkHandlers => {
    deps.authority.authorizeService(sender, connection);
    return serviceBoundSender<FeedbackBatch>(sender, {
      // A batch is held by one link at a time, whichever connection it is on.
      take: () => {
        const batch = c2d.feedbackBatches().find((b) => !feedbackInFlight.has(b.seq));
        if (batch) feedbackInFlight.add(batch.seq);
        return batch;
      },
      message: (batch) =>
        ({
          content_type: 'application/vnd.microsoft.iothub.feedback.json',
          user_id: deps.hubName,
          message_annotations: { 'iothub-enqueuedtime': new Date(batch.enqueuedTime) },
          body: rhea.message.data_section(Buffer.from(JSON.stringify(batch.records), 'utf8')),
        }) as Message,
      done: (batch) => {
        feedbackInFlight.delete(batch.seq);
        c2d.feedbackDone(batch.seq);
      },
      release: (batch) => feedbackInFlight.delete(batch.seq),
      onAvailable: (pump) => c2d.onFeedback(pump),
    });
  };

  return [
    {
      role: 'sender',
      match: (address) => matchIdentity(ADDRESS.cloudToDevice, address),
      open: (link, params, connection) =>
        deviceReceiver(link as Sender, identityOf(params), connection),
    },
    {
      role: 'receiver',
      match: (address) => (ADDRESS.serviceCloudToDevice.test(address) ? {} : undefined),
      open: (link, _params, connection) => serviceSender(link as Receiver, connection),
    },
    {
      role: 'sender',
      match: (address) => (ADDRESS.feedback.test(address) ? {} : undefined),
      open: (link, _params, connection) => feedbackReceiver(link as Sender, connection),
    },
  ];
}
