/** Cloud-to-device messages to a subscribed device: published from its queue, completed by PUBACK. */
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import { send, type CloudToDeviceState, type Connection } from './connection.ts';
import { deviceboundFilter, propertyBag } from './devicebound-topic.ts';

/** How many deliveries may wait for their PUBACK at once. */
const MAX_IN_FLIGHT = 10;

/** Starts delivering a device's cloud-to-device queue once it has subscribed to it. */
export function startCloudToDevice(connection: Connection, c2d: CloudToDevice): void {
  const filter = deviceboundFilter(connection.identity);
  if (connection.c2d || !filter || !connection.session.subscriptions.has(filter)) return;
  const state: CloudToDeviceState = { inFlight: new Map(), stop: () => undefined };
  connection.c2d = state;
  state.stop = c2d.onMessage(connection.identity, () => pumpCloudToDevice(connection, c2d));
  pumpCloudToDevice(connection, c2d);
}

/** Publishes queued messages, a few at a time; each stays locked until its PUBACK. */
function pumpCloudToDevice(connection: Connection, c2d: CloudToDevice): void {
  const state = connection.c2d;
  const filter = deviceboundFilter(connection.identity);
  if (!state || !filter || connection.socket.destroyed) return;
  const qos = connection.session.subscriptions.get(filter) ?? 0;
  while (state.inFlight.size < MAX_IN_FLIGHT) {
    const next = c2d.next(connection.identity);
    if (!next) return;
    const messageId = connection.nextPacketId;
    connection.nextPacketId = (connection.nextPacketId % 65535) + 1;
    send(connection.socket, {
      cmd: 'publish',
      topic: `devices/${connection.identity.deviceId}/messages/devicebound/${propertyBag(next.message)}`,
      payload: next.message.body,
      qos,
      messageId,
      retain: false,
      dup: false,
    });
    if (qos === 0) c2d.complete(connection.identity, next.lockToken);
    else state.inFlight.set(messageId, next.lockToken);
  }
}

/** A PUBACK completes the message it acknowledges (MQTT has no reject or abandon). */
export function cloudToDeviceAcked(
  connection: Connection,
  messageId: number | undefined,
  c2d: CloudToDevice,
): void {
  const state = connection.c2d;
  if (!state || messageId === undefined) return;
  const lockToken = state.inFlight.get(messageId);
  if (lockToken === undefined) return;
  state.inFlight.delete(messageId);
  try {
    c2d.complete(connection.identity, lockToken);
  } catch {
    // The lock ran out first: the message is queued again and will come once more.
  }
  pumpCloudToDevice(connection, c2d);
}

/** The connection is gone: what it was sent but did not acknowledge goes back to the queue. */
export function stopCloudToDevice(connection: Connection, c2d: CloudToDevice): void {
  if (!connection.c2d) return;
  connection.c2d.stop();
  for (const lockToken of connection.c2d.inFlight.values()) c2d.release(lockToken);
}
