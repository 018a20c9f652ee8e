import rhea, { type Message, type Sender } from 'rhea';
import type { FileNotificationQueue, HeldNotification } from '../uploads/file-notifications.ts';
import { ADDRESS } from './addresses.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkRoute } from './links.ts';
import { serviceBoundSender } from './service-bound.ts';

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
      match: (address) => (ADDRESS.fileNotifications.test(address) ? {} : undefined),
      open: (link, _params, connection) => {
        const sender = link as Sender;
        deps.authority.authorizeService(sender, connection);
        return serviceBoundSender<HeldNotification>(sender, {
          take: () => notifications.take(),
          message: (held) =>
            ({
              content_type: 'application/vnd.microsoft.iothub.filenotification.json',
              user_id: deps.hubName,
              message_annotations: {
                'iothub-enqueuedtime': new Date(held.notification.enqueuedTimeUtc),
              },
              body: rhea.message.data_section(
                Buffer.from(JSON.stringify(held.notification), 'utf8'),
              ),
            }) as Message,
          done: (held) => notifications.done(held),
          release: (held) => notifications.release(held),
          onAvailable: (pump) => notifications.onAvailable(pump),
        });
      },
    },
  ];
}
