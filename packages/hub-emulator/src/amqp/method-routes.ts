import rhea, { type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import { identityKey, type DeviceSessions, type MethodCall } from '../devices/device-sessions.ts';
import { PendingMethodCalls } from '../devices/method-calls.ts';
import { ADDRESS, identityOf, matchIdentity } from './addresses.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkRoute } from './links.ts';
import { bodyBytes, correlationText, uuidBytes } from './messages.ts';

/**
 * Direct methods (`devices/{id}[/modules/{mid}]/methods/devicebound`): the hub sends each
 * call on the device's receiver, correlated by a uuid, and matches the answer the device
 * sends back on its sender; a call unanswered in its timeout fails with GatewayTimeout.
 */
export function methodRoutes(deps: { sessions: DeviceSessions; authority: LinkAuthority }): {
  routes: LinkRoute[];
  close(): void;
} {
  const { sessions, authority } = deps;
  const pending = new PendingMethodCalls();

  const callsTo =
    (sender: Sender, key: string): MethodCall =>
    (methodName, payload, timeoutSeconds) =>
      pending.call(key, methodName, timeoutSeconds, (requestId) => {
        sender.send({
          // A 16-byte buffer is an AMQP uuid on the wire, as IoT Hub sends method ids.
          correlation_id: uuidBytes(requestId),
          application_properties: { 'IoThub-methodname': methodName },
          body: rhea.message.data_section(Buffer.from(JSON.stringify(payload ?? null), 'utf8')),
        } as Message);
        return true;
      });

  /** An answer on the identity's method receiver, matched to its call by correlation id. */
  const answers = (key: string) => (context: EventContext) => {
    const message = context.message!;
    context.delivery?.accept();
    const id = correlationText(message.correlation_id);
    if (id === undefined) return;
    const status = Number((message.application_properties ?? {})['IoThub-status'] ?? 200);
    pending.answered(id, key, status, bodyBytes(message));
  };

  return {
    routes: [
      {
        role: 'sender',
        match: (address) => matchIdentity(ADDRESS.methods, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authority.authorizeDevice(link, identity, connection);
          const stop = sessions.listenForMethods(
            identity,
            callsTo(link as Sender, identityKey(identity)),
          );
          return { closed: stop };
        },
      },
      {
        role: 'receiver',
        match: (address) => matchIdentity(ADDRESS.methods, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authority.authorizeDevice(link as Receiver, identity, connection);
          return { message: answers(identityKey(identity)) };
        },
      },
    ],
    close: () => pending.close(),
  };
}
