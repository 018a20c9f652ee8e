// Long on purpose: the one AMQP 1.0 layer every AMQP endpoint stands on (TLS or plain or
// WebSocket connections, SASL, $cbs put-token with grants that expire per connection,
// $management, link routes by role and address). Its parts share one connection object and
// its grants; the endpoints (hub-endpoint.ts, events/amqp-endpoint.ts) and the frame guard
// are apart.
import type { AddressInfo, Server, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import rhea, {
  type Connection,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import { entityPath } from './addresses.ts';
import { AmqpFrameGuard, MAX_FRAME_BYTES } from './frame-guard.ts';
import {
  clientCertificateOf,
  clientCertificateRequest,
  type ClientCertificate,
} from '../auth/x509.ts';

/** AMQP error conditions the hubs use, and what the SDKs make of them. */
export const CONDITION = {
  unauthorized: 'amqp:unauthorized-access',
  notFound: 'amqp:not-found',
  invalid: 'amqp:invalid-field',
  notAllowed: 'amqp:not-allowed',
  resourceLimit: 'amqp:resource-limit-exceeded',
  messageSize: 'amqp:link:message-size-exceeded',
  argument: 'com.microsoft:argument-error',
  internal: 'amqp:internal-error',
  notImplemented: 'amqp:not-implemented',
} as const;

/**
 * What a put-token on `$cbs` grants: an audience (a path under the host; `''` is the whole
 * host) until a time, with the rights and the subject the token carries, when it has them.
 */
export interface Grant {
  audience: string;
  expiresAt: number;
  rights?: ReadonlySet<string>;
  /** Who the token speaks for: a policy name, `device:<id>`, `module:<id>/<mid>`. */
  subject?: string;
}

/** A `$cbs` put-token request, as the client sent it. */
export interface PutToken {
  /** `servicebus.windows.net:sastoken`, or `jwt` for an Entra access token. */
  type: string;
  /** The audience the token is put for (the client's `name`). */
  name: string;
  token: string;
}

/** What a route does with a link it accepted: its events, and its end. */
export interface LinkHandlers {
  /** A server sender may send (credit arrived). */
  sendable?(): void;
  /** A message arrived on a server receiver. */
  message?(context: EventContext): void;
  /** The client settled a delivery this server sender sent. */
  settled?(outcome: 'accepted' | 'rejected' | 'released' | 'modified', context: EventContext): void;
  /** The link closed, by either side, or its connection went away. */
  closed?(): void;
}

/** A link address the server serves: its role, and how it opens one. */
export interface LinkRoute {
  /** `sender`: the client attached a receiver (the server sends). `receiver`: the other way. */
  role: 'sender' | 'receiver';
  /**
   * Matches the entity the link names (its source for a sender, its target for a receiver,
   * read by `entityPath`: relative, rooted or absolute alike); its parameters.
   */
  match(address: string): Record<string, string> | undefined;
  /**
   * Accepts the link and answers its handlers, or refuses it (`AmqpRefusal`). `audience`
   * is the address as a grant must cover it.
   */
  open(
    link: Sender | Receiver,
    params: Record<string, string>,
    connection: AmqpConnection,
  ): LinkHandlers;
}

/** Thrown by a route to refuse a link with an AMQP error condition. */
export class AmqpRefusal extends Error {
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
  }
}

/** One client connection: what its tokens grant, checked as links open and as time passes. */
export class AmqpConnection {
  private readonly grants = new Map<string, Grant>();
  private readonly guarded = new Map<Sender | Receiver, { timer?: NodeJS.Timeout }>();

  constructor(
    readonly connection: Connection,
    private readonly now: () => number,
    /** The certificate the client presented in its TLS handshake (X.509 devices). */
    readonly certificate?: ClientCertificate,
  ) {}

  /** A put-token that succeeded; a renewal for the same audience extends it. */
  grant(grant: Grant): void {
    const held = this.grants.get(grant.audience);
    if (held && held.subject === grant.subject && held.expiresAt > grant.expiresAt) return;
    this.grants.set(grant.audience, grant);
  }

  /** The unexpired grant covering `audience` (that `accept` accepts) lasting longest. */
  covering(audience: string, accept: (grant: Grant) => boolean = () => true): Grant | undefined {
    let best: Grant | undefined;
    for (const grant of this.grants.values()) {
      const covers =
        grant.audience === '' ||
        audience === grant.audience ||
        audience.startsWith(`${grant.audience}/`);
      if (!covers || grant.expiresAt <= this.now() || !accept(grant)) continue;
      if (!best || grant.expiresAt > best.expiresAt) best = grant;
    }
    return best;
  }

  authorized(audience: string, accept?: (grant: Grant) => boolean): boolean {
    return this.covering(audience, accept) !== undefined;
  }

  /** Every unexpired grant (for the identities a connection speaks for). */
  current(): Grant[] {
    return [...this.grants.values()].filter((grant) => grant.expiresAt > this.now());
  }

  /**
   * Keeps a link only while a grant covers `audience`: when the last token for it expires
   * unrenewed, the link is closed with unauthorized-access, as the hub does.
   */
  guard(link: Sender | Receiver, audience: string, accept?: (grant: Grant) => boolean): void {
    const check = () => {
      const entry = this.guarded.get(link);
      if (!entry) return;
      const grant = this.covering(audience, accept);
      if (!grant) {
        this.guarded.delete(link);
        link.close({
          condition: CONDITION.unauthorized,
          description: 'The token for this link has expired; put a new one on $cbs.',
        });
        return;
      }
      // Timers past 2^31 ms fire at once: check again at most every day.
      entry.timer = setTimeout(check, Math.min(grant.expiresAt - this.now() + 5, 86_400_000));
      entry.timer.unref();
    };
    this.guarded.set(link, {});
    check();
  }

  release(link: Sender | Receiver): void {
    clearTimeout(this.guarded.get(link)?.timer);
    this.guarded.delete(link);
  }

  releaseAll(): void {
    for (const link of [...this.guarded.keys()]) this.release(link);
  }
}

export interface AmqpServerOptions {
  /** Names the container and prefixes log lines. */
  name: string;
  port: number;
  listen: string;
  /**
   * AMQP over TLS (amqps) with this certificate; plain TCP without. With `clientCertificates`,
   * clients may present one (X.509 devices), verified against these trusted CAs.
   */
  tls?: { cert: string; key: string; clientCertificates?: { trustedCas: readonly string[] } };
  /** Checks a `$cbs` put-token; throws (with the reason) to refuse it with 401. */
  putToken(request: PutToken, connection: AmqpConnection): Grant;
  /**
   * SASL PLAIN with a SAS token as the password (the C service client: user
   * `<policy>@sas.root.<hub>`); throws to refuse the connection. Its grant holds for the
   * connection as a put-token's would. None: PLAIN is not offered.
   */
  plain?(username: string, password: string): Grant;
  /** Answers a `$management` request; none: the address is not served. */
  management?(
    request: Message,
    connection: AmqpConnection,
  ): { status: number; description: string; body?: unknown };
  routes: LinkRoute[];
  /**
   * The largest message a link takes, said in every attach the server answers (the C SDK
   * sends nothing on a link whose peer does not say it).
   */
  maxMessageBytes?: number;
  /** A put-token succeeded (the first, or a renewal). */
  granted?(grant: Grant, connection: AmqpConnection): void;
  /** The connection is gone (closed, dropped, or the server closing). */
  ended?(connection: AmqpConnection): void;
  now?: () => number;
  log?: (line: string) => void;
}

export interface RunningAmqpServer {
  port: number;
  /**
   * Serves an AMQP connection that arrived over a WebSocket (AMQPWSB10), with the client
   * certificate of the TLS connection it came over, if any.
   */
  acceptWebSocket(socket: WebSocket, certificate?: ClientCertificate): void;
  close(): Promise<void>;
}

/** The accepted outcome (AMQP 1.0 §3.4.2, descriptor 0x24), as a delivery's state. */
const ACCEPTED = rhea.types.described(rhea.types.wrap_ulong(0x24), rhea.types.wrap_list([]));

/** A server SASL mechanism of one step: the client's initial response decides. */
class SaslMechanism {
  outcome: boolean | undefined;
  username: string | undefined;
  constructor(private readonly accept: (response: Buffer | undefined) => boolean) {}
  start(response: Buffer | undefined): void {
    this.outcome = this.accept(response);
    this.username = this.outcome ? 'sasl' : undefined;
  }
}

/**
 * The SASL mechanism a connection authenticated with (rhea keeps it in its SASL layer, which
 * its typings do not name): a selective server's SASL transport, or the server itself.
 */
function saslMechanismOf(connection: Connection): SaslMechanism | undefined {
  const transport: unknown = Reflect.get(connection, 'sasl_transport');
  if (typeof transport !== 'object' || !transport) return undefined;
  const transports: unknown = Reflect.get(transport, 'transports');
  const server: unknown =
    typeof transports === 'object' && transports ? Reflect.get(transports, 3) : transport;
  const mechanism: unknown =
    typeof server === 'object' && server ? Reflect.get(server, 'mechanism') : undefined;
  return mechanism instanceof SaslMechanism ? mechanism : undefined;
}

/** Sets the attach the server answers with (rhea builds it from `local.attach`, which its typings do not name). */
function answerMaxMessageSize(link: Sender | Receiver, bytes: number): void {
  const local: unknown = Reflect.get(link, 'local');
  const attach: unknown =
    typeof local === 'object' && local ? Reflect.get(local, 'attach') : undefined;
  if (typeof attach === 'object' && attach) Reflect.set(attach, 'max_message_size', bytes);
}

/** The entity a link names (its source for a server sender, its target for a receiver). */
const addressOf = (link: Sender | Receiver): string =>
  entityPath((link.is_sender() ? link.source?.address : link.target?.address) ?? '');

/**
 * One AMQP 1.0 layer (rhea) for every AMQP endpoint of the hub: connections with or without
 * SASL (the IoT SDKs send a bare AMQP header; @azure/event-hubs sends SASL ANONYMOUS),
 * claims-based security on `$cbs`, `$management`, and link routes by address, each link's
 * handlers kept in a WeakMap. An endpoint is a set of routes and two callbacks.
 */
export async function startAmqpServer(options: AmqpServerOptions): Promise<RunningAmqpServer> {
  const now = options.now ?? Date.now;
  const log = (line: string) => options.log?.(`[${options.name}] ${line}`);
  const container = rhea.create_container({ id: options.name });
  // ANONYMOUS (the Node SDKs, @azure/event-hubs) or no SASL at all (.NET, Java, Python), then
  // CBS; MSSBCBS (the C SDK's devices) says the same: authenticate on $cbs afterwards.
  container.sasl_server_mechanisms.enable_anonymous();
  container.sasl_server_mechanisms['MSSBCBS'] = () => new SaslMechanism(() => true);
  const plainLogins = new WeakMap<SaslMechanism, Grant>();
  if (options.plain) {
    const plain = options.plain;
    container.sasl_server_mechanisms['PLAIN'] = () => {
      const mechanism: SaslMechanism = new SaslMechanism((response) => {
        // `authzid \0 authcid \0 password`
        const [, username = '', password = ''] = (response?.toString('utf8') ?? '').split('\0');
        try {
          plainLogins.set(mechanism, plain(username, password));
          return true;
        } catch (error) {
          log(`SASL PLAIN refused for ${username}: ${(error as Error).message}`);
          return false;
        }
      });
      return mechanism;
    };
  }
  const connections = new WeakMap<Connection, AmqpConnection>();
  const handlers = new WeakMap<Sender | Receiver, LinkHandlers>();
  /** Client certificates of WebSocket connections, by the connection id they were given. */
  const webSocketCertificates = new Map<string, ClientCertificate>();
  let webSockets = 0;
  const certificateOf = (connection: Connection): ClientCertificate | undefined => {
    const socket = connection.get_tls_socket();
    if (socket instanceof TLSSocket) return clientCertificateOf(socket);
    const id = connection.options.id;
    return id === undefined ? undefined : webSocketCertificates.get(id);
  };
  const connectionOf = (connection: Connection): AmqpConnection => {
    let state = connections.get(connection);
    if (!state) {
      state = new AmqpConnection(connection, now, certificateOf(connection));
      connections.set(connection, state);
      const mechanism = saslMechanismOf(connection);
      const login = mechanism ? plainLogins.get(mechanism) : undefined;
      if (login) state.grant(login);
    }
    return state;
  };

  /**
   * Replies to a `$cbs` or `$management` request on the server sender whose source is that
   * address (the IoT SDKs' `reply_to` names no link), or else the one `reply_to` names.
   */
  const replyNow = (
    connection: Connection,
    address: string,
    request: Message,
    status: number,
    description: string,
    body?: unknown,
  ) => {
    const replyTo = String(request.reply_to ?? '');
    let bySource: Sender | undefined;
    let byReplyTo: Sender | undefined;
    connection.each_link((link: Sender | Receiver) => {
      if (!link.is_sender() || !link.is_open()) return;
      const sender = link as Sender;
      if (!bySource && sender.source?.address === address) bySource = sender;
      if (!byReplyTo && (sender.name === replyTo || sender.target?.address === replyTo))
        byReplyTo = sender;
    });
    const target = byReplyTo ?? bySource;
    if (!target) {
      log(`no link to reply on for ${address} (reply_to ${replyTo})`);
      return;
    }
    target.send({
      correlation_id: request.message_id,
      application_properties: {
        'status-code': rhea.types.wrap_int(status),
        'status-description': description,
      },
      ...(body !== undefined ? { body } : {}),
    } as Message);
  };

  const cbs = (context: EventContext, message: Message) => {
    // The reply goes out after the request's disposition: the C SDK fails a put-token whose
    // answer arrives before the hub accepted the request ("did not receive send
    // confirmation"), and rhea writes a turn's transfers before its dispositions.
    const reply = (
      connection: Connection,
      address: string,
      request: Message,
      status: number,
      description: string,
    ) => setImmediate(() => replyNow(connection, address, request, status, description));
    const props = (message.application_properties ?? {}) as Record<string, unknown>;
    if (props['operation'] !== 'put-token') {
      reply(context.connection, '$cbs', message, 400, `unsupported $cbs operation`);
      return;
    }
    const connection = connectionOf(context.connection);
    try {
      const body = message.body;
      const token = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString() : '';
      const grant = options.putToken(
        { type: String(props['type'] ?? ''), name: String(props['name'] ?? ''), token },
        connection,
      );
      connection.grant(grant);
      reply(context.connection, '$cbs', message, 200, 'OK');
      options.granted?.(grant, connection);
    } catch (error) {
      log(`put-token refused: ${(error as Error).message}`);
      reply(context.connection, '$cbs', message, 401, (error as Error).message);
    }
  };

  const refuse = (link: Sender | Receiver, condition: string, description: string) => {
    log(`link ${addressOf(link) || link.name} refused: ${description}`);
    link.close({ condition, description });
  };

  const openLink = (context: EventContext, link: Sender | Receiver) => {
    // The server's attach names the same terminus the client asked for.
    if (link.source) link.set_source(link.source);
    if (link.target) link.set_target(link.target);
    if (options.maxMessageBytes) answerMaxMessageSize(link, options.maxMessageBytes);
    const address = addressOf(link);
    if (address === '$cbs') return;
    if (address === '$management' && options.management) return;
    const role = link.is_sender() ? 'sender' : 'receiver';
    for (const route of options.routes) {
      if (route.role !== role) continue;
      const params = route.match(address);
      if (!params) continue;
      try {
        handlers.set(link, route.open(link, params, connectionOf(context.connection)));
      } catch (error) {
        if (error instanceof AmqpRefusal) refuse(link, error.condition, error.message);
        else {
          log(`opening ${address} failed: ${(error as Error).message}`);
          refuse(link, CONDITION.internal, 'The hub failed to open the link.');
        }
      }
      return;
    }
    refuse(
      link,
      role === 'receiver' ? CONDITION.notAllowed : CONDITION.notFound,
      `The messaging entity '${address}' could not be found.`,
    );
  };
  container.on('sender_open', (context: EventContext) => openLink(context, context.sender!));
  container.on('receiver_open', (context: EventContext) => openLink(context, context.receiver!));
  container.on('sendable', (context: EventContext) => handlers.get(context.sender!)?.sendable?.());
  for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
    container.on(outcome, (context: EventContext) => {
      if (!context.sender) return;
      handlers.get(context.sender)?.settled?.(outcome, context);
      // A client that sends its outcome unsettled (.NET completing, rejecting or abandoning
      // a message or a feedback batch) waits for the hub's: settled, accepted, whichever it
      // sent, as IoT Hub answers (anything else fails the client's call).
      const delivery = context.delivery;
      if (delivery && !delivery.remote_settled) delivery.update(true, ACCEPTED);
    });
  }

  container.on('message', (context: EventContext) => {
    const receiver = context.receiver!;
    const address = entityPath(receiver.target?.address ?? '');
    const message = context.message!;
    try {
      if (address === '$cbs') cbs(context, message);
      else if (address === '$management' && options.management) {
        const answer = options.management(message, connectionOf(context.connection));
        replyNow(
          context.connection,
          '$management',
          message,
          answer.status,
          answer.description,
          answer.body,
        );
      } else handlers.get(receiver)?.message?.(context);
    } catch (error) {
      log(`request on ${address} failed: ${(error as Error).message}`);
      if (address === '$cbs' || address === '$management')
        replyNow(context.connection, address, message, 500, 'The request failed.');
    }
  });

  const endLink = (link: Sender | Receiver | undefined, connection: Connection) => {
    if (!link) return;
    connections.get(connection)?.release(link);
    const linkHandlers = handlers.get(link);
    handlers.delete(link);
    linkHandlers?.closed?.();
  };
  container.on('sender_close', (c: EventContext) => endLink(c.sender, c.connection));
  container.on('sender_error', (c: EventContext) => endLink(c.sender, c.connection));
  container.on('receiver_close', (c: EventContext) => endLink(c.receiver, c.connection));
  container.on('receiver_error', (c: EventContext) => endLink(c.receiver, c.connection));

  const endConnection = (context: EventContext) => {
    const id = context.connection.options.id;
    if (id !== undefined) webSocketCertificates.delete(id);
    const state = connections.get(context.connection);
    if (!state) return;
    connections.delete(context.connection);
    context.connection.each_link((link: Sender | Receiver) => endLink(link, context.connection));
    state.releaseAll();
    options.ended?.(state);
  };
  container.on('connection_close', endConnection);
  container.on('disconnected', endConnection);
  // A client that misbehaves at the protocol level loses its connection, not the hub.
  container.on('error', (error: Error) => log(`connection error: ${error.message}`));
  container.on('connection_error', () => undefined);

  const sockets = new Set<Socket>();
  // No Nagle delay: a disposition or a reply held back 40 ms for a delayed ACK would be
  // most of a cloud-to-device message's time on loopback (rhea leaves it on for servers;
  // its typings do not name the option).
  // Frames over MAX_FRAME_BYTES are refused (the frame guard), so the Open says so.
  const common: { port: number; host: string } & {
    tcp_no_delay: boolean;
    max_frame_size: number;
  } = {
    port: options.port,
    host: options.listen,
    tcp_no_delay: true,
    max_frame_size: MAX_FRAME_BYTES,
  };
  const server = (
    options.tls
      ? container.listen({
          ...common,
          transport: 'tls',
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.clientCertificates
            ? clientCertificateRequest(options.tls.clientCertificates.trustedCas)
            : {}),
        })
      : container.listen(common)
  ) as Server;
  // With TLS, count raw sockets too: one caught mid-handshake would hold close() forever.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // The frame guard reads what rhea reads (the decrypted stream, with TLS) and drops a
  // connection whose framing rhea would otherwise wait on for ever.
  server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    const guard = new AmqpFrameGuard();
    socket.on('data', (chunk: Buffer) => {
      const refusal = guard.inspect(chunk);
      if (!refusal) return;
      log(`dropping a connection: ${refusal}`);
      socket.destroy();
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    acceptWebSocket(socket, certificate) {
      // The connection id ties the rhea connection made below to the WebSocket's certificate.
      const id = `${options.name}-ws-${++webSockets}`;
      if (certificate) webSocketCertificates.set(id, certificate);
      // rhea reads `id` from these options (its typings name only the TLS ones).
      const accepted: Parameters<typeof container.websocket_accept>[1] & {
        id: string;
        max_frame_size: number;
      } = { id, max_frame_size: MAX_FRAME_BYTES };
      const guard = new AmqpFrameGuard();
      socket.on('message', (data: Buffer) => {
        const refusal = guard.inspect(data);
        if (!refusal) return;
        log(`dropping a WebSocket connection: ${refusal}`);
        socket.terminate();
      });
      // rhea wraps a `ws` WebSocket itself (lib/ws.js); its typings name a net.Socket.
      const wrapped: unknown = socket;
      container.websocket_accept(
        wrapped as Parameters<typeof container.websocket_accept>[0],
        accepted,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
