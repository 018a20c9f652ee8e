import { randomUUID } from 'node:crypto';
import rhea, { type EventContext, type Message, type Receiver, type Sender } from 'rhea';
import { jsonNestingBeyond, parseJson, type JsonValue } from '@twinscope/twin';
import { identityKey, type DeviceSessions, type MethodCall } from '../devices/device-sessions.ts';
import { HubError } from '../errors.ts';
import { ADDRESS, identityOf, matchIdentity } from './addresses.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkRoute } from './links.ts';
import { bodyBytes, correlationText } from './messages.ts';

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
  const pending = new Map<
    string,
    { resolve(result: { status: number; payload: JsonValue }): void; timer: NodeJS.Timeout }
  >();

  const callsTo =
    (sender: Sender, key: string): MethodCall =>
    (methodName, payload, timeoutSeconds) =>
      new Promise((resolve, reject) => {
        const requestId = randomUUID();
        const timer = setTimeout(() => {
          pending.delete(requestId);
          reject(
            new HubError(
              'GatewayTimeout',
              `${key} did not answer ${methodName} within ${timeoutSeconds} s.`,
            ),
          );
        }, timeoutSeconds * 1000);
        pending.set(requestId, { resolve, timer });
        sender.send({
          // A 16-byte buffer is an AMQP uuid on the wire, as IoT Hub sends method ids.
          correlation_id: Buffer.from(requestId.replaceAll('-', ''), 'hex'),
          application_properties: { 'IoThub-methodname': methodName },
          body: rhea.message.data_section(Buffer.from(JSON.stringify(payload ?? null), 'utf8')),
        } as Message);
      });

  const answered = (context: EventContext) => {
    const message = context.message!;
    context.delivery?.accept();
    const id = correlationText(message.correlation_id);
    const call = id === undefined ? undefined : pending.get(id);
    if (!call || id === undefined) return;
    pending.delete(id);
    clearTimeout(call.timer);
    const status = Number((message.application_properties ?? {})['IoThub-status'] ?? 200);
    const raw = bodyBytes(message).toString('utf8');
    let payload: JsonValue = null;
    if (raw) {
      try {
        payload = jsonNestingBeyond(raw) ? raw : parseJson(raw);
      } catch {
        payload = raw;
      }
    }
    call.resolve({ status, payload });
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
          authority.authorizeDevice(link as Receiver, identityOf(params), connection);
          return { message: answered };
        },
      },
    ],
    close() {
      for (const call of pending.values()) clearTimeout(call.timer);
    },
  };
}
