import { randomUUID } from 'node:crypto';
import rhea, {
  type Connection,
  type ConnectionOptions,
  type EventContext,
  type Message,
  type Receiver,
  type Sender,
} from 'rhea';
import { afterEach } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningEmulator } from '../emulator.ts';

/**
 * Raw AMQP as another SDK sends it (rhea, frame by frame), for the conformance tests that
 * follow the .NET and C SDKs' sources: connections closed after each test, links awaited,
 * outcomes read, and the CBS exchange as .NET's azure-amqp makes it.
 */

export const ACCEPTED = rhea.types.described(rhea.types.wrap_ulong(0x24), rhea.types.wrap_list([]));
export const REJECTED = rhea.types.described(rhea.types.wrap_ulong(0x25), rhea.types.wrap_list([]));
export const RELEASED = rhea.types.described(rhea.types.wrap_ulong(0x26), rhea.types.wrap_list([]));
/** Microsoft's batch message format (C: telemetry_messenger.c 43; .NET: AmqpIotSendingLink.cs 93). */
export const BATCH_FORMAT = 0x80013700;
/** The outcome a peer settled with (rhea unwraps a remote state into its outcome type). */
export const outcomeName = (state: unknown): string | undefined => {
  const type: unknown = typeof state === 'object' && state ? state.constructor : undefined;
  const name: unknown =
    typeof type === 'function' ? Reflect.get(type, 'composite_type') : undefined;
  return typeof name === 'string' ? name : undefined;
};
/** rhea reads `sasl_mechanisms` from the connect options; its typings leave it out. */
export type SaslMechanisms = Record<string, () => unknown>;

export function useAmqpWire(hub: { emulator: RunningEmulator }) {
  const open: Connection[] = [];
  afterEach(() => {
    for (const connection of open.splice(0)) connection.close();
  });

  /** A TLS connection, with these SASL mechanisms (none: no SASL) and maybe a client certificate. */
  async function connect(
    sasl: SaslMechanisms | undefined = undefined,
    clientCertificate?: { cert: string; key: string },
  ) {
    const connection = rhea.create_container().connect({
      host: 'localhost',
      port: hub.emulator.amqpsPort,
      transport: 'tls',
      ca: hub.emulator.tls.caCert,
      ...clientCertificate,
      reconnect: false,
      idle_time_out: 0,
      ...(sasl ? { sasl_mechanisms: sasl } : {}),
    } as ConnectionOptions & { sasl_mechanisms?: SaslMechanisms });
    open.push(connection);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      connection.once('disconnected', (c) => reject(c.error ?? new Error('disconnected')));
      // A refused SASL login is a connection error (rhea throws it when nobody listens).
      connection.once('connection_error', (c) => reject(c.connection.error ?? c.error));
    });
    return connection;
  }

  /**
   * AMQP over WebSockets as .NET's ClientWebSocket transport opens it (AmqpIotTransport.cs
   * 85-218): `wss://host:443/$iothub/websocket`, subprotocol AMQPWSB10, no SASL.
   */
  async function connectWebSocket() {
    const webSocket = rhea.websocket_connect(WebSocket)(
      `wss://localhost:${hub.emulator.httpsPort}/$iothub/websocket`,
      ['AMQPWSB10'],
      { ca: hub.emulator.tls.caCert },
    );
    const connection = rhea.create_container().connect({
      // rhea's typings want a transport, host and port its WebSocket wrapper does without.
      transport: 'tcp',
      host: 'localhost',
      port: hub.emulator.httpsPort,
      connection_details: () => ({
        ...webSocket(),
        host: 'localhost',
        port: hub.emulator.httpsPort,
      }),
      reconnect: false,
      idle_time_out: 0,
    });
    open.push(connection);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      connection.once('disconnected', (c) => reject(c.error ?? new Error('disconnected')));
    });
    return connection;
  }

  const opened = <T extends Sender | Receiver>(link: T): Promise<T> =>
    new Promise((resolve, reject) => {
      link.once(link.is_sender() ? 'sender_open' : 'receiver_open', () => resolve(link));
      link.once(link.is_sender() ? 'sender_close' : 'receiver_close', () =>
        reject(new Error(`${link.name} was refused: ${JSON.stringify(link.error)}`)),
      );
    });

  /** Sends and waits for the peer's outcome (a settled disposition). */
  const outcomeOf = (sender: Sender, message: Message, format?: number) =>
    new Promise<string>((resolve) => {
      // rhea sends a message with a message format as the bytes it is given.
      const delivery =
        format === undefined
          ? sender.send(message)
          : sender.send(rhea.message.encode(message), undefined, format);
      const outcomes = ['accepted', 'rejected', 'released'] as const;
      const listeners = outcomes.map((name) => (context: EventContext) => {
        if (context.delivery !== delivery) return;
        outcomes.forEach((outcome, i) => sender.off(outcome, listeners[i]!));
        resolve(name === 'accepted' ? 'accepted' : 'refused');
      });
      outcomes.forEach((outcome, i) => sender.on(outcome, listeners[i]!));
    });

  /** The next message on a receiver that `pick` accepts. */
  const next = (receiver: Receiver, pick: (message: Message) => boolean = () => true) =>
    new Promise<EventContext>((resolve) => {
      const hear = (context: EventContext) => {
        if (!pick(context.message!)) return;
        receiver.off('message', hear);
        resolve(context);
      };
      receiver.on('message', hear);
    });

  /**
   * Settles a received message unsettled, as azure-amqp's ReceivingAmqpLink does
   * (ReceivingAmqpLink.cs 1003-1050), and waits for the peer's settled answer.
   */
  const dispose = (receiver: Receiver, context: EventContext, state: unknown) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the hub never answered')), 5000);
      receiver.once('settled', (settled) => {
        clearTimeout(timer);
        resolve(outcomeName(settled.delivery!.remote_state) ?? 'none');
      });
      context.delivery!.update(false, state);
    });

  /**
   * The .NET CBS pair (azure-amqp Cbs/AmqpCbsLink.cs 163-189, RequestResponseAmqpLink.cs
   * 39-64): a pre-settled sender to `$cbs`, a receiver from `$cbs` whose target is the
   * reply-to id. Answers a put-token function: audience and token in, reply properties out.
   */
  async function dotnetCbs(connection: Connection) {
    const replyTo = randomUUID().replaceAll('-', '');
    const receiver = await opened(
      connection.open_receiver({
        name: 'duplex1:1:1:receiver',
        source: { address: '$cbs' },
        target: { address: replyTo },
        credit_window: 50,
      }),
    );
    const sender = await opened(
      connection.open_sender({
        name: 'duplex1:1:1:sender',
        target: { address: '$cbs' },
        snd_settle_mode: 1,
      }),
    );
    let request = 0;
    return async (audience: string, sas: string) => {
      const messageId = `request${++request}`;
      const reply = next(receiver, (m) => m.correlation_id === messageId);
      sender.send({
        message_id: messageId,
        reply_to: replyTo,
        application_properties: {
          operation: 'put-token',
          type: 'azure-devices.net:sastoken',
          name: audience,
          expiration: new Date(Date.now() + 600_000),
        },
        body: sas,
      });
      return (await reply).message!.application_properties as Record<string, unknown>;
    };
  }

  return { connect, connectWebSocket, opened, outcomeOf, next, dispose, dotnetCbs };
}
