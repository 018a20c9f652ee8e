import rhea, { type EventContext, type Message, type Sender } from 'rhea';
import { identityKey, type Identity } from '../devices/device-sessions.ts';
import { asHubError, deviceErrorBody, HubError } from '../errors.ts';
import type { ChangeEvent } from '../store/change-log.ts';
import { patchReportedFromDevice, twinForDevice } from '../devices/twin-requests.ts';
import type { Registry } from '../store/registry.ts';
import { ADDRESS, identityOf, matchIdentity } from './addresses.ts';
import type { AmqpConnection } from './connection.ts';
import type { LinkAuthority } from './hub-connections.ts';
import type { LinkRoute } from './links.ts';
import { bodyBytes } from './messages.ts';

/** A twin channel: the server sender of an identity's twin link, and whether it gets desired pushes. */
interface TwinChannel {
  identity: Identity;
  sender: Sender;
  desired: boolean;
}

const respond = (
  sender: Sender,
  request: Message,
  status: number,
  body: Buffer | string,
  extra: Record<string, unknown> = {},
) => {
  sender.send({
    correlation_id: request.correlation_id,
    message_annotations: { status: rhea.types.wrap_int(status), ...extra },
    body: rhea.message.data_section(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')),
  } as Message);
};

/**
 * The twin channel (`devices/{id}[/modules/{mid}]/twin`): a receiver the device sends
 * requests on (GET, PATCH reported, PUT/DELETE the desired subscription) and a sender it
 * hears the answers and the desired pushes on, paired per connection and identity.
 */
export function twinRoutes(deps: {
  registry: Registry;
  authority: LinkAuthority;
  log(line: string): void;
}): { routes: LinkRoute[]; close(): void } {
  const { registry, authority } = deps;
  /** Each connection's twin channels, by identity key. */
  const channels = new WeakMap<AmqpConnection, Map<string, TwinChannel>>();
  /** Every open channel, for desired pushes. */
  const open = new Set<TwinChannel>();
  const channelsOf = (connection: AmqpConnection) => {
    let map = channels.get(connection);
    if (!map) {
      map = new Map();
      channels.set(connection, map);
    }
    return map;
  };

  const request = (identity: Identity, connection: AmqpConnection, context: EventContext) => {
    const message = context.message!;
    const channel = channels.get(connection)?.get(identityKey(identity));
    if (!channel) {
      deps.log(`${identityKey(identity)} sent a twin request without a twin receiver`);
      return;
    }
    const annotations = (message.message_annotations ?? {}) as Record<string, unknown>;
    const operation = String(annotations['operation'] ?? '');
    const resource = String(annotations['resource'] ?? '');
    registry.touch(identity.deviceId, identity.moduleId);
    try {
      if (operation === 'GET') {
        respond(channel.sender, message, 200, twinForDevice(registry, identity));
      } else if (operation === 'PATCH' && resource === '/properties/reported') {
        const version = patchReportedFromDevice(registry, identity, bodyBytes(message));
        respond(channel.sender, message, 204, '', { version: rhea.types.wrap_long(version) });
      } else if (
        resource === '/notifications/twin/properties/desired' &&
        (operation === 'PUT' || operation === 'DELETE')
      ) {
        channel.desired = operation === 'PUT';
        respond(channel.sender, message, 200, '');
      } else {
        throw new HubError(
          'ArgumentInvalid',
          `Unsupported twin operation ${operation} ${resource}.`,
        );
      }
    } catch (error) {
      const hubError = asHubError(error);
      respond(channel.sender, message, hubError.status, deviceErrorBody(hubError));
    }
  };

  /** Desired-property pushes to twin channels that subscribed, on every connection. */
  const onChange = (event: ChangeEvent) => {
    if (!event.desiredPatch) return;
    const key = identityKey({
      deviceId: event.deviceId,
      ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    });
    for (const channel of open) {
      if (identityKey(channel.identity) !== key) continue;
      if (!channel.desired || !channel.sender.is_open()) continue;
      channel.sender.send({
        body: rhea.message.data_section(Buffer.from(JSON.stringify(event.desiredPatch), 'utf8')),
      } as Message);
    }
  };
  const unsubscribe = registry.changes.subscribe(onChange);

  return {
    routes: [
      {
        role: 'receiver',
        match: (address) => matchIdentity(ADDRESS.twin, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authority.authorizeDevice(link, identity, connection);
          return { message: (context) => request(identity, connection, context) };
        },
      },
      {
        role: 'sender',
        match: (address) => matchIdentity(ADDRESS.twin, address),
        open: (link, params, connection) => {
          const identity = identityOf(params);
          authority.authorizeDevice(link, identity, connection);
          const key = identityKey(identity);
          const channel: TwinChannel = { identity, sender: link as Sender, desired: false };
          channelsOf(connection).set(key, channel);
          open.add(channel);
          return {
            closed() {
              open.delete(channel);
              if (channels.get(connection)?.get(key) === channel)
                channels.get(connection)?.delete(key);
            },
          };
        },
      },
    ],
    close: unsubscribe,
  };
}
