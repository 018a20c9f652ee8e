import type { AddressInfo, Server, Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import rhea, { type Connection, type EventContext, type Sender, type Receiver } from 'rhea';
import { AmqpFrameGuard, MAX_FRAME_BYTES } from './frame-guard.ts';
import { AmqpConnection, CONDITION, type Grant } from './connection.ts';
import { addressOf, LinkRouter, type LinkRoute } from './links.ts';
import { RequestReplies, type RequestOptions } from './requests.ts';
import { serveSasl } from './sasl.ts';
import {
  clientCertificateOf,
  clientCertificateRequest,
  type ClientCertificate,
} from '../auth/x509.ts';

export interface AmqpServerOptions extends Omit<RequestOptions, 'connectionOf' | 'log'> {
  /** Names the container and prefixes log lines. */
  name: string;
  port: number;
  listen: string;
  /**
   * AMQP over TLS (amqps) with this certificate; plain TCP without. With `clientCertificates`,
   * clients may present one (X.509 devices), verified against these trusted CAs.
   */
  tls?: { cert: string; key: string; clientCertificates?: { trustedCas: readonly string[] } };
  /**
   * SASL PLAIN with a SAS token as the password (the C service client: user
   * `<policy>@sas.root.<hub>`); throws to refuse the connection. Its grant holds for the
   * connection as a put-token's would. None: PLAIN is not offered.
   */
  plain?(username: string, password: string): Grant;
  routes: LinkRoute[];
  /** The largest message a link takes, said in every attach (see `LinkRouter`). */
  maxMessageBytes?: number;
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

/**
 * One AMQP 1.0 server (rhea) for every AMQP endpoint of the hub, in three layers a reader can
 * follow: the connection (TLS or a WebSocket, SASL in sasl.ts, `$cbs` and `$management` in
 * requests.ts, the grants each connection holds in connection.ts) → link routing (links.ts:
 * every address read once into its entity, relative or absolute alike, and matched to a
 * route) → the handlers each endpoint's routes answer.
 */
export async function startAmqpServer(options: AmqpServerOptions): Promise<RunningAmqpServer> {
  const now = options.now ?? Date.now;
  const log = (line: string) => options.log?.(`[${options.name}] ${line}`);
  const container = rhea.create_container({ id: options.name });
  const saslOf = serveSasl(container, options.plain, log);
  const connections = new WeakMap<Connection, AmqpConnection>();
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
      const { login } = saslOf(connection);
      if (login) state.grant(login);
    }
    return state;
  };

  const requests = new RequestReplies({
    putToken: options.putToken,
    ...(options.granted ? { granted: options.granted } : {}),
    ...(options.management ? { management: options.management } : {}),
    connectionOf,
    log,
  });
  const router = new LinkRouter({
    routes: options.routes,
    reserved: (address) => requests.serves(address),
    ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
    log,
  });
  container.on('sender_open', (c: EventContext) =>
    router.open(c.sender!, connectionOf(c.connection)),
  );
  container.on('receiver_open', (c: EventContext) =>
    router.open(c.receiver!, connectionOf(c.connection)),
  );
  container.on('sendable', (c: EventContext) => router.sendable(c.sender!));
  for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
    container.on(outcome, (c: EventContext) => {
      if (c.sender) router.settled(c.sender, outcome, c);
    });
  }
  container.on('message', (c: EventContext) => {
    const address = addressOf(c.receiver!);
    if (requests.serves(address)) requests.request(c.connection, address, c.message!);
    else router.message(c.receiver!, c);
  });

  const endLink = (link: Sender | Receiver | undefined, connection: Connection) => {
    if (!link) return;
    connections.get(connection)?.release(link);
    router.closed(link);
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
  container.on('connection_open', (c: EventContext) => {
    if (saslOf(c.connection).mechanism !== 'EXTERNAL' || certificateOf(c.connection)) return;
    log('SASL EXTERNAL without a client certificate refused');
    c.connection.close({
      condition: CONDITION.unauthorized,
      description: 'SASL EXTERNAL needs a TLS client certificate.',
    });
  });
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
