import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import rhea, { type Connection, type EventContext, type Message, type Sender } from 'rhea';
import { parseSasToken, type Policy } from '../auth/sas.ts';
import {
  EVENT_HUBS_AUDIENCE,
  EVENTS_READ_ROLES,
  verifyEntraToken,
  type EntraAccess,
} from '../auth/entra.ts';
import type { EventStore, StoredEvent } from './event-store.ts';

export interface AmqpEndpointOptions {
  store: EventStore;
  /** The Event Hubs-compatible name (the hub's name). */
  entityName: string;
  consumerGroups: readonly string[];
  policies: readonly Policy[];
  port: number;
  listen: string;
  /** AMQP over TLS (amqps) with this certificate, as Azure serves it; plain TCP without. */
  tls?: { cert: string; key: string };
  /** Accept Entra tokens (put-token type jwt) for principals with an Event Hubs receive role. */
  entra?: EntraAccess;
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunningAmqpEndpoint {
  port: number;
  close(): Promise<void>;
}

type Position = Parameters<EventStore['startSequence']>[1];

interface Subscription {
  sender: Sender;
  partition: number;
  next: number;
  /** The audience whose token authorized this link, re-checked as events flow. */
  audience: string;
  unsubscribe(): void;
}

interface ConnectionState {
  /** Audience path (no scheme or host) → expiry in ms, from $cbs put-token. */
  authorized: Map<string, number>;
  subscriptions: Set<Subscription>;
}

const SELECTOR = 'apache.org:selector-filter:string';
const CONDITION = {
  unauthorized: 'amqp:unauthorized-access',
  notFound: 'amqp:not-found',
  invalid: 'amqp:invalid-field',
  notAllowed: 'amqp:not-allowed',
};

/** `sb://host[:port]/a/b` → `a/b` (lower case): tokens name the endpoint as the client wrote it. */
function audiencePath(audience: string): string {
  return audience
    .replace(/^[a-z]+:\/\/[^/]+\/?/i, '')
    .replace(/\/$/, '')
    .toLowerCase();
}

/**
 * Verifies an Event Hubs SAS token (`sr`, `sig`, `se`, `skn`). Unlike IoT Hub tokens, Event
 * Hubs signs with the UTF-8 bytes of the key text, not the base64-decoded key.
 */
function verifyEventHubsToken(
  token: string,
  policies: readonly Policy[],
  now: number,
): { path: string; expiresAt: number } {
  const parsed = parseSasToken(token);
  if (!parsed?.skn) throw new Error('the token is not a SharedAccessSignature with skn');
  const policy = policies.find((p) => p.keyName === parsed.skn);
  if (!policy) throw new Error(`no shared access policy named ${parsed.skn}`);
  if (!policy.rights.includes('ServiceConnect'))
    throw new Error(`policy ${policy.keyName} lacks ServiceConnect, which reading events needs`);
  const expiresAt = Number(parsed.se) * 1000;
  if (!Number.isFinite(expiresAt) || expiresAt <= now) throw new Error('the token has expired');
  const given = Buffer.from(decodeURIComponent(parsed.sig), 'base64');
  const valid = [policy.primaryKey, policy.secondaryKey].some((key) => {
    const expected = createHmac('sha256', Buffer.from(key, 'utf8'))
      .update(`${parsed.sr}\n${parsed.se}`)
      .digest();
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) throw new Error('the token signature is not valid');
  return { path: audiencePath(decodeURIComponent(parsed.sr)), expiresAt };
}

/** Parses `amqp.annotation.x-opt-… >[=] '…'` into a start position. */
function parseSelector(expression: string): Position {
  const match =
    /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/i.exec(
      expression,
    );
  if (!match) throw new Error(`unsupported filter expression: ${expression.slice(0, 200)}`);
  const [, field, operator, value] = match as unknown as [string, string, string, string];
  const inclusive = operator === '>=';
  if (field.toLowerCase() === 'x-opt-offset') {
    if (value === '@latest') return { kind: 'latest' };
    if (value === '-1') return { kind: 'earliest' };
    if (!/^\d+$/.test(value)) throw new Error(`offset '${value}' is not a number`);
    return { kind: 'offset', value: Number(value), inclusive };
  }
  if (!/^-?\d+$/.test(value)) throw new Error(`'${value}' is not a number`);
  return field.toLowerCase() === 'x-opt-sequence-number'
    ? { kind: 'sequence', value: Number(value), inclusive }
    : { kind: 'time', value: Number(value), inclusive };
}

/** Finds the selector expression in a source filter, however the client encoded it. */
function selectorOf(filter: unknown): string | undefined {
  if (!filter || typeof filter !== 'object') return undefined;
  const entry = (filter as Record<string, unknown>)[SELECTOR];
  const value =
    entry && typeof entry === 'object' && 'value' in entry
      ? (entry as { value: unknown }).value
      : entry;
  return typeof value === 'string' ? value : undefined;
}

function toAmqp(event: StoredEvent): Message {
  const annotations: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.annotations)) {
    annotations[key] = key === 'iothub-enqueuedtime' ? new Date(Number(value)) : value;
  }
  annotations['x-opt-sequence-number'] = rhea.types.wrap_long(event.sequenceNumber);
  annotations['x-opt-offset'] = String(event.offset);
  annotations['x-opt-enqueued-time'] = new Date(event.enqueuedTime);
  const p = event.properties;
  return {
    body: rhea.message.data_section(event.body),
    ...(p['message_id'] ? { message_id: p['message_id'] } : {}),
    ...(p['correlation_id'] ? { correlation_id: p['correlation_id'] } : {}),
    ...(p['content_type'] ? { content_type: p['content_type'] } : {}),
    ...(p['content_encoding'] ? { content_encoding: p['content_encoding'] } : {}),
    ...(p['user_id'] ? { user_id: Buffer.from(p['user_id'], 'utf8') } : {}),
    ...(p['to'] ? { to: p['to'] } : {}),
    application_properties: event.applicationProperties,
    message_annotations: annotations,
  } as Message;
}

/**
 * The Event Hubs-compatible endpoint over AMQP 1.0 (rhea), as `@azure/event-hubs` expects it
 * with `UseDevelopmentEmulator=true`: plain TCP, SASL ANONYMOUS, claims-based security on
 * `$cbs`, `$management` READ for the hub and its partitions, and receivers per partition
 * that start at an offset, the latest event, a sequence number or an enqueued time.
 */
export async function startAmqpEndpoint(
  options: AmqpEndpointOptions,
): Promise<RunningAmqpEndpoint> {
  const now = options.now ?? Date.now;
  const entity = options.entityName.toLowerCase();
  const groups = new Map(options.consumerGroups.map((g) => [g.toLowerCase(), g]));
  const container = rhea.create_container({ id: `${options.entityName}-events` });
  container.sasl_server_mechanisms.enable_anonymous();
  const states = new WeakMap<Connection, ConnectionState>();
  const state = (connection: Connection): ConnectionState => {
    let s = states.get(connection);
    if (!s) states.set(connection, (s = { authorized: new Map(), subscriptions: new Set() }));
    return s;
  };
  const log = (line: string) => options.log?.(`[events] ${line}`);

  const isAuthorized = (connection: Connection, path: string): boolean => {
    for (const [granted, expiresAt] of state(connection).authorized) {
      if (expiresAt > now() && (path === granted || path.startsWith(`${granted}/`))) return true;
    }
    return false;
  };

  /** Replies on the link the request names in reply_to. */
  const reply = (
    connection: Connection,
    request: Message,
    status: number,
    description: string,
    body?: unknown,
  ) => {
    const replyTo = String(request.reply_to ?? '');
    let target: Sender | undefined;
    connection.each_link((link: Sender | rhea.Receiver) => {
      if (target || !link.is_sender()) return;
      const address = (link as Sender).target?.address;
      if (link.name === replyTo || address === replyTo) target = link as Sender;
    });
    if (!target) {
      log(`no reply link for ${replyTo}`);
      return;
    }
    target.send({
      correlation_id: request.message_id,
      application_properties: { 'status-code': status, 'status-description': description },
      ...(body !== undefined ? { body } : {}),
    } as Message);
  };

  const cbs = (context: EventContext, message: Message) => {
    const props = (message.application_properties ?? {}) as Record<string, unknown>;
    if (props['operation'] !== 'put-token') {
      reply(
        context.connection,
        message,
        400,
        `unsupported $cbs operation ${String(props['operation'])}`,
      );
      return;
    }
    try {
      const requested = audiencePath(String(props['name'] ?? ''));
      if (props['type'] === 'jwt') {
        // An Entra access token: not scoped to a path, so the principal's role decides.
        if (!options.entra) throw new Error('this endpoint does not accept Entra tokens');
        const token = verifyEntraToken(
          String(message.body ?? ''),
          options.entra,
          EVENT_HUBS_AUDIENCE,
          'Event Hubs',
        );
        if (!token.roles.some((role) => EVENTS_READ_ROLES.includes(role))) {
          throw new Error(
            `principal ${token.oid ?? '(no oid)'} has no Azure Event Hubs Data Receiver role here`,
          );
        }
        state(context.connection).authorized.set(requested, token.expiresAt);
        reply(context.connection, message, 200, 'OK');
        return;
      }
      const token = verifyEventHubsToken(String(message.body ?? ''), options.policies, now());
      if (requested !== token.path && !requested.startsWith(`${token.path}/`)) {
        throw new Error('the token does not cover the audience it is put for');
      }
      state(context.connection).authorized.set(requested, token.expiresAt);
      reply(context.connection, message, 200, 'OK');
    } catch (error) {
      log(`put-token refused: ${(error as Error).message}`);
      reply(context.connection, message, 401, (error as Error).message);
    }
  };

  const management = (context: EventContext, message: Message) => {
    const props = (message.application_properties ?? {}) as Record<string, unknown>;
    const name = String(props['name'] ?? '').toLowerCase();
    const tokenText = props['security_token'];
    let allowed =
      isAuthorized(context.connection, entity) ||
      isAuthorized(context.connection, `${entity}/$management`);
    if (!allowed && typeof tokenText === 'string') {
      try {
        allowed = verifyEventHubsToken(tokenText, options.policies, now()).path === entity;
      } catch {
        allowed = false;
      }
    }
    if (!allowed) {
      reply(context.connection, message, 401, 'Unauthorized: put a token for the hub first');
      return;
    }
    if (props['operation'] !== 'READ') {
      reply(
        context.connection,
        message,
        400,
        `unsupported operation ${String(props['operation'])}`,
      );
      return;
    }
    if (name !== entity) {
      reply(
        context.connection,
        message,
        404,
        `The messaging entity '${String(props['name'])}' could not be found.`,
      );
      return;
    }
    if (props['type'] === 'com.microsoft:eventhub') {
      reply(context.connection, message, 200, 'OK', {
        name: options.entityName,
        type: 'com.microsoft:eventhub',
        created_at: new Date(0),
        partition_ids: Array.from({ length: options.store.partitionCount }, (_, i) => String(i)),
      });
      return;
    }
    if (props['type'] === 'com.microsoft:partition') {
      const partition = Number(props['partition']);
      if (
        !Number.isInteger(partition) ||
        partition < 0 ||
        partition >= options.store.partitionCount
      ) {
        reply(
          context.connection,
          message,
          404,
          `partition '${String(props['partition'])}' does not exist`,
        );
        return;
      }
      const info = options.store.info(partition);
      reply(context.connection, message, 200, 'OK', {
        name: options.entityName,
        type: 'com.microsoft:partition',
        partition: String(partition),
        begin_sequence_number: rhea.types.wrap_long(info.beginSequenceNumber),
        last_enqueued_sequence_number: rhea.types.wrap_long(info.lastSequenceNumber),
        last_enqueued_offset: String(info.lastOffset),
        last_enqueued_time_utc: new Date(info.lastEnqueuedTime),
        is_partition_empty: info.isEmpty,
      });
      return;
    }
    reply(context.connection, message, 400, `unsupported type ${String(props['type'])}`);
  };

  const refuse = (link: Sender | rhea.Receiver, condition: string, description: string) => {
    log(`link ${link.name} refused: ${description}`);
    link.close({ condition, description });
  };

  const pump = (subscription: Subscription) => {
    const { sender } = subscription;
    const connection = sender.connection;
    if (!isAuthorized(connection, subscription.audience)) {
      refuse(
        sender,
        CONDITION.unauthorized,
        'The token for this partition has expired; put a new one.',
      );
      return;
    }
    while (sender.sendable()) {
      const event = options.store.at(subscription.partition, subscription.next);
      if (!event) return;
      subscription.next = event.sequenceNumber + 1;
      sender.send(toAmqp(event));
    }
  };

  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender!;
    const source = sender.source as rhea.Source | undefined;
    const address = source?.address ?? '';
    // The server's attach names the same terminus the client asked for.
    if (source) sender.set_source(source);
    if (sender.target) sender.set_target(sender.target);
    if (address === '$cbs' || address === '$management') return;
    const match = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(address);
    if (!match) {
      refuse(sender, CONDITION.notFound, `The messaging entity '${address}' could not be found.`);
      return;
    }
    const [, hub, group, partitionText] = match as unknown as [string, string, string, string];
    if (hub.toLowerCase() !== entity) {
      refuse(sender, CONDITION.notFound, `The messaging entity '${hub}' could not be found.`);
      return;
    }
    if (!groups.has(group.toLowerCase())) {
      refuse(
        sender,
        CONDITION.notFound,
        `The consumer group '${group}' does not exist on '${options.entityName}'.`,
      );
      return;
    }
    const partition = Number(partitionText);
    if (!/^\d+$/.test(partitionText) || partition >= options.store.partitionCount) {
      refuse(
        sender,
        CONDITION.notFound,
        `Partition '${partitionText}' does not exist (the hub has ${options.store.partitionCount}).`,
      );
      return;
    }
    const audience = audiencePath(address);
    if (!isAuthorized(context.connection, audience)) {
      refuse(
        sender,
        CONDITION.unauthorized,
        `Unauthorized access to '${address}': put a token for it on $cbs first.`,
      );
      return;
    }
    let position: Position = { kind: 'earliest' };
    const selector = selectorOf(source?.filter);
    if (source?.filter !== undefined && selector === undefined) {
      refuse(sender, CONDITION.invalid, 'The source filter is not a selector filter.');
      return;
    }
    if (selector !== undefined) {
      try {
        position = parseSelector(selector);
      } catch (error) {
        refuse(sender, CONDITION.invalid, (error as Error).message);
        return;
      }
    }
    const subscription: Subscription = {
      sender,
      partition,
      audience,
      next: options.store.startSequence(partition, position),
      unsubscribe: () => undefined,
    };
    subscription.unsubscribe = options.store.subscribe(partition, () => pump(subscription));
    state(context.connection).subscriptions.add(subscription);
    (sender as unknown as { subscription?: Subscription }).subscription = subscription;
    log(`receiver on ${address} from ${JSON.stringify(position)}`);
    pump(subscription);
  });

  container.on('sendable', (context: EventContext) => {
    const subscription = (context.sender as unknown as { subscription?: Subscription })
      .subscription;
    if (subscription) pump(subscription);
  });

  const endLink = (context: EventContext) => {
    const subscription = (context.sender as unknown as { subscription?: Subscription } | undefined)
      ?.subscription;
    if (!subscription) return;
    subscription.unsubscribe();
    state(context.connection).subscriptions.delete(subscription);
  };
  container.on('sender_close', endLink);
  container.on('sender_error', endLink);

  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver!;
    const address = (receiver.target as { address?: string } | undefined)?.address ?? '';
    if (receiver.source) receiver.set_source(receiver.source);
    if (receiver.target) receiver.set_target(receiver.target);
    if (address !== '$cbs' && address !== '$management') {
      refuse(
        receiver,
        CONDITION.notAllowed,
        `Sending to '${address}' is not supported: the built-in endpoint is read-only.`,
      );
    }
  });

  container.on('message', (context: EventContext) => {
    const address = (context.receiver?.target as { address?: string } | undefined)?.address;
    const message = context.message!;
    try {
      if (address === '$cbs') cbs(context, message);
      else if (address === '$management') management(context, message);
    } catch (error) {
      log(`request failed: ${(error as Error).message}`);
      reply(context.connection, message, 500, 'The request failed.');
    }
  });

  const cleanup = (context: EventContext) => {
    const s = states.get(context.connection);
    if (!s) return;
    for (const subscription of s.subscriptions) subscription.unsubscribe();
    s.subscriptions.clear();
  };
  container.on('connection_close', cleanup);
  container.on('disconnected', cleanup);
  // A client that misbehaves at the protocol level loses its connection, not the emulator.
  container.on('error', (error: Error) => log(`connection error: ${error.message}`));
  container.on('connection_error', () => undefined);

  const sockets = new Set<Socket>();
  const server = (
    options.tls
      ? container.listen({
          port: options.port,
          host: options.listen,
          transport: 'tls',
          cert: options.tls.cert,
          key: options.tls.key,
        })
      : container.listen({ port: options.port, host: options.listen })
  ) as Server;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
