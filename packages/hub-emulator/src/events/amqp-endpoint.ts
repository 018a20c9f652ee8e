import rhea, { type Message, type Sender } from 'rhea';
import { startAmqpServer } from '../amqp/amqp-server.ts';
import { CONDITION, type AmqpConnection, type Grant, type PutToken } from '../amqp/connection.ts';
import { AmqpRefusal, type LinkHandlers } from '../amqp/links.ts';
import { audiencePath, verifyEventHubsToken, type Policy } from '../auth/sas.ts';
import {
  EVENT_HUBS_AUDIENCE,
  EVENTS_READ_ROLES,
  verifyEntraToken,
  type EntraAccess,
} from '../auth/entra.ts';
import type { EventStore, PartitionInfo, StoredEvent } from './event-store.ts';

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

const SELECTOR = 'apache.org:selector-filter:string';

/** Parses `amqp.annotation.x-opt-… >[=] '…'` into a start position. */
function parseSelector(expression: string): Position {
  const match =
    /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/i.exec(
      expression,
    );
  if (!match) throw new Error(`unsupported filter expression: ${expression.slice(0, 200)}`);
  const [, field = '', operator = '', value = ''] = match;
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

/** A receiver that asks for this is told, with each event, where its partition ends. */
const RUNTIME_METRIC = 'com.microsoft:enable-receiver-runtime-metric';

function desires(capabilities: unknown, capability: string): boolean {
  const list: unknown[] = Array.isArray(capabilities) ? capabilities : [capabilities];
  return list.some((entry) => String(entry) === capability);
}

/**
 * Event Hubs' receiver runtime metric: the partition's last enqueued event, as delivery
 * annotations of every event sent (what a consumer reads its lag from).
 */
function runtimeInfo(info: PartitionInfo): Record<string, unknown> {
  return {
    last_enqueued_sequence_number: rhea.types.wrap_long(info.lastSequenceNumber),
    last_enqueued_offset: String(info.lastOffset),
    last_enqueued_time_utc: new Date(info.lastEnqueuedTime),
    runtime_info_retrieval_time_utc: new Date(),
  };
}

function toAmqp(event: StoredEvent, partition?: PartitionInfo): Message {
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
    ...(partition ? { delivery_annotations: runtimeInfo(partition) } : {}),
  } as Message;
}

/**
 * The Event Hubs-compatible endpoint over AMQP 1.0, as `@azure/event-hubs` expects it with
 * `UseDevelopmentEmulator=true`: SASL ANONYMOUS, claims-based security on `$cbs` (Event Hubs
 * signatures, or Entra tokens with a receive role), `$management` READ for the hub and its
 * partitions, and receivers per partition that start at an offset, the latest event, a
 * sequence number or an enqueued time. One user of the shared AMQP layer.
 */
export async function startAmqpEndpoint(
  options: AmqpEndpointOptions,
): Promise<RunningAmqpEndpoint> {
  const now = options.now ?? Date.now;
  const entity = options.entityName.toLowerCase();
  const groups = new Map(options.consumerGroups.map((g) => [g.toLowerCase(), g]));
  const log = (line: string) => options.log?.(`[events] ${line}`);

  const putToken = (request: PutToken): Grant => {
    const requested = audiencePath(request.name);
    if (request.type === 'jwt') {
      // An Entra access token: not scoped to a path, so the principal's role decides.
      if (!options.entra) throw new Error('this endpoint does not accept Entra tokens');
      const token = verifyEntraToken(
        request.token,
        options.entra,
        EVENT_HUBS_AUDIENCE,
        'Event Hubs',
      );
      if (!token.roles.some((role) => EVENTS_READ_ROLES.includes(role))) {
        throw new Error(
          `principal ${token.oid ?? '(no oid)'} has no Azure Event Hubs Data Receiver role here`,
        );
      }
      return { audience: requested, expiresAt: token.expiresAt };
    }
    const token = verifyEventHubsToken(request.token, options.policies, now());
    if (requested !== token.path && !requested.startsWith(`${token.path}/`)) {
      throw new Error('the token does not cover the audience it is put for');
    }
    return { audience: requested, expiresAt: token.expiresAt };
  };

  const management = (message: Message, connection: AmqpConnection) => {
    const props = (message.application_properties ?? {}) as Record<string, unknown>;
    const name = String(props['name'] ?? '').toLowerCase();
    const tokenText = props['security_token'];
    let allowed = connection.authorized(entity) || connection.authorized(`${entity}/$management`);
    if (!allowed && typeof tokenText === 'string') {
      try {
        allowed = verifyEventHubsToken(tokenText, options.policies, now()).path === entity;
      } catch {
        allowed = false;
      }
    }
    if (!allowed)
      return { status: 401, description: 'Unauthorized: put a token for the hub first' };
    if (props['operation'] !== 'READ')
      return { status: 400, description: `unsupported operation ${String(props['operation'])}` };
    if (name !== entity) {
      return {
        status: 404,
        description: `The messaging entity '${String(props['name'])}' could not be found.`,
      };
    }
    if (props['type'] === 'com.microsoft:eventhub') {
      return {
        status: 200,
        description: 'OK',
        body: {
          name: options.entityName,
          type: 'com.microsoft:eventhub',
          created_at: new Date(0),
          partition_ids: Array.from({ length: options.store.partitionCount }, (_, i) => String(i)),
        },
      };
    }
    if (props['type'] === 'com.microsoft:partition') {
      const partition = Number(props['partition']);
      if (
        !Number.isInteger(partition) ||
        partition < 0 ||
        partition >= options.store.partitionCount
      )
        return {
          status: 404,
          description: `partition '${String(props['partition'])}' does not exist`,
        };
      const info = options.store.info(partition);
      return {
        status: 200,
        description: 'OK',
        body: {
          name: options.entityName,
          type: 'com.microsoft:partition',
          partition: String(partition),
          begin_sequence_number: rhea.types.wrap_long(info.beginSequenceNumber),
          last_enqueued_sequence_number: rhea.types.wrap_long(info.lastSequenceNumber),
          last_enqueued_offset: String(info.lastOffset),
          last_enqueued_time_utc: new Date(info.lastEnqueuedTime),
          is_partition_empty: info.isEmpty,
        },
      };
    }
    return { status: 400, description: `unsupported type ${String(props['type'])}` };
  };

  /** A receiver on one partition: events from its start position, as credit allows. */
  const partitionReceiver = (
    sender: Sender,
    params: Record<string, string>,
    connection: AmqpConnection,
  ): LinkHandlers => {
    const address = sender.source?.address ?? '';
    const { hub = '', group = '', partition: partitionText = '' } = params;
    if (hub.toLowerCase() !== entity)
      throw new AmqpRefusal(
        CONDITION.notFound,
        `The messaging entity '${hub}' could not be found.`,
      );
    if (!groups.has(group.toLowerCase())) {
      throw new AmqpRefusal(
        CONDITION.notFound,
        `The consumer group '${group}' does not exist on '${options.entityName}'.`,
      );
    }
    const partition = Number(partitionText);
    if (!/^\d+$/.test(partitionText) || partition >= options.store.partitionCount) {
      throw new AmqpRefusal(
        CONDITION.notFound,
        `Partition '${partitionText}' does not exist (the hub has ${options.store.partitionCount}).`,
      );
    }
    const audience = audiencePath(address);
    if (!connection.authorized(audience)) {
      throw new AmqpRefusal(
        CONDITION.unauthorized,
        `Unauthorized access to '${address}': put a token for it on $cbs first.`,
      );
    }
    let position: Position = { kind: 'earliest' };
    const filter = sender.source?.filter;
    const selector = selectorOf(filter);
    if (filter !== undefined && selector === undefined)
      throw new AmqpRefusal(CONDITION.invalid, 'The source filter is not a selector filter.');
    if (selector !== undefined) {
      try {
        position = parseSelector(selector);
      } catch (error) {
        throw new AmqpRefusal(CONDITION.invalid, (error as Error).message);
      }
    }
    let next = options.store.startSequence(partition, position);
    const runtimeMetric = desires(sender.desired_capabilities, RUNTIME_METRIC);
    const pump = () => {
      while (sender.is_open() && sender.sendable()) {
        const event = options.store.at(partition, next);
        if (!event) return;
        next = event.sequenceNumber + 1;
        sender.send(toAmqp(event, runtimeMetric ? options.store.info(partition) : undefined));
      }
    };
    const unsubscribe = options.store.subscribe(partition, pump);
    connection.guard(sender, audience);
    log(`receiver on ${address} from ${JSON.stringify(position)}`);
    pump();
    return { sendable: pump, closed: unsubscribe };
  };

  const server = await startAmqpServer({
    name: `${options.entityName}-events`,
    port: options.port,
    listen: options.listen,
    ...(options.tls ? { tls: options.tls } : {}),
    now,
    putToken,
    management,
    routes: [
      {
        role: 'sender',
        match: (address) => {
          const m = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(address);
          return m ? { hub: m[1]!, group: m[2]!, partition: m[3]! } : undefined;
        },
        open: (link, params, connection) => partitionReceiver(link as Sender, params, connection),
      },
      {
        role: 'receiver',
        match: () => ({}),
        open: (link) => {
          throw new AmqpRefusal(
            CONDITION.notAllowed,
            `Sending to '${link.target?.address ?? ''}' is not supported: the built-in endpoint is read-only.`,
          );
        },
      },
    ],
    ...(options.log ? { log: options.log } : {}),
  });
  return { port: server.port, close: () => server.close() };
}
