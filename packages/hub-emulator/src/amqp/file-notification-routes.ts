import { randomUUID } from 'node:crypto';
import rhea, { type Delivery, type Message, type Sender } from 'rhea';
import type { FileNotificationQueue, HeldNotification } from '../uploads/file-notifications.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkRoute } from './links.ts';

/** A delivery tag of 16 bytes, as C# reads one (a GUID). */
const tag = () => Buffer.from(randomUUID().replaceAll('-', ''), 'hex');

/**
 * The service's file notification receiver (`/messages/serviceBound/filenotifications`,
 * azure-iothub `getFileNotificationReceiver`, .NET `FileNotificationReceiver`): each
 * notification is sent as a JSON message and stays locked until the service completes it
 * (accepted or rejected) or abandons it (released or modified: offered again).
 */
export function fileNotificationRoutes(deps: {
  notifications: FileNotificationQueue;
  hubName: string;
  authority: LinkAuthority;
}): LinkRoute[] {
  const { notifications } = deps;
  return [
    {
      role: 'sender',
      match: (address) =>
        /^\/?messages\/servicebound\/filenotifications$/i.test(address) ? {} : undefined,
      open: (link, _params, connection) => {
        const sender = link as Sender;
        deps.authority.authorizeService(sender, connection);
        const inFlight = new Map<Delivery, HeldNotification>();
        const pump = () => {
          while (sender.is_open() && sender.sendable()) {
            const next = notifications.take();
            if (!next) return;
            const delivery = sender.send(
              {
                content_type: 'application/vnd.microsoft.iothub.filenotification.json',
                user_id: deps.hubName,
                message_annotations: {
                  'iothub-enqueuedtime': new Date(next.notification.enqueuedTimeUtc),
                },
                body: rhea.message.data_section(
                  Buffer.from(JSON.stringify(next.notification), 'utf8'),
                ),
              } as Message,
              tag(),
            );
            inFlight.set(delivery, next);
          }
        };
        const stop = notifications.onAvailable(pump);
        pump();
        return {
          sendable: pump,
          settled(outcome, context) {
            const held = context.delivery ? inFlight.get(context.delivery) : undefined;
            if (!held) return;
            inFlight.delete(context.delivery!);
            if (outcome === 'accepted' || outcome === 'rejected') notifications.done(held);
            else notifications.release(held);
          },
          closed() {
            stop();
            for (const held of inFlight.values()) notifications.release(held);
            inFlight.clear();
          },
        };
      },
    },
  ];
}
