import rhea, { type Connection, type Message, type Receiver, type Sender } from 'rhea';
import { entityPath } from './addresses.ts';
import type { AmqpConnection, Grant, PutToken } from './connection.ts';

/** What the request-reply addresses (`$cbs`, `$management`) need of the server. */
export interface RequestOptions {
  /** Checks a `$cbs` put-token; throws (with the reason) to refuse it with 401. */
  putToken(request: PutToken, connection: AmqpConnection): Grant;
  /** A put-token succeeded (the first, or a renewal). */
  granted?(grant: Grant, connection: AmqpConnection): void;
  /** Answers a `$management` request; none: the address is not served. */
  management?(
    request: Message,
    connection: AmqpConnection,
  ): { status: number; description: string; body?: unknown };
  connectionOf(connection: Connection): AmqpConnection;
  log(line: string): void;
}

/**
 * The request-reply addresses every SDK authenticates and manages through: a client sends a
 * request to `$cbs` or `$management` and hears the answer (`status-code`, a description,
 * maybe a body) on its receiver from the same address.
 */
export class RequestReplies {
  constructor(private readonly options: RequestOptions) {}

  /** Whether an entity path is a request-reply address this server serves. */
  serves(address: string): boolean {
    return address === '$cbs' || (address === '$management' && !!this.options.management);
  }

  /** A request arrived on `address` (one `serves` accepts). */
  request(connection: Connection, address: string, message: Message): void {
    try {
      if (address === '$cbs') this.cbs(connection, message);
      else {
        const answer = this.options.management!(message, this.options.connectionOf(connection));
        this.reply(connection, address, message, answer.status, answer.description, answer.body);
      }
    } catch (error) {
      this.options.log(`request on ${address} failed: ${(error as Error).message}`);
      this.reply(connection, address, message, 500, 'The request failed.');
    }
  }

  private cbs(rheaConnection: Connection, message: Message): void {
    // The reply goes out after the request's disposition: the C SDK fails a put-token whose
    // answer arrives before the hub accepted the request ("did not receive send
    // confirmation"), and rhea writes a turn's transfers before its dispositions.
    const reply = (status: number, description: string) =>
      setImmediate(() => this.reply(rheaConnection, '$cbs', message, status, description));
    const props = (message.application_properties ?? {}) as Record<string, unknown>;
    if (props['operation'] !== 'put-token') {
      reply(400, `unsupported $cbs operation`);
      return;
    }
    const connection = this.options.connectionOf(rheaConnection);
    try {
      const body = message.body;
      const token = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString() : '';
      const grant = this.options.putToken(
        { type: String(props['type'] ?? ''), name: String(props['name'] ?? ''), token },
        connection,
      );
      connection.grant(grant);
      reply(200, 'OK');
      this.options.granted?.(grant, connection);
    } catch (error) {
      this.options.log(`put-token refused: ${(error as Error).message}`);
      reply(401, (error as Error).message);
    }
  }

  /**
   * Replies on the server sender whose source is that address (the IoT SDKs' `reply_to`
   * names no link), or else the one `reply_to` names.
   */
  private reply(
    connection: Connection,
    address: string,
    request: Message,
    status: number,
    description: string,
    body?: unknown,
  ): void {
    const replyTo = String(request.reply_to ?? '');
    let bySource: Sender | undefined;
    let byReplyTo: Sender | undefined;
    connection.each_link((link: Sender | Receiver) => {
      if (!link.is_sender() || !link.is_open()) return;
      const sender = link as Sender;
      if (!bySource && entityPath(sender.source?.address ?? '') === address) bySource = sender;
      if (!byReplyTo && (sender.name === replyTo || sender.target?.address === replyTo))
        byReplyTo = sender;
    });
    const target = byReplyTo ?? bySource;
    if (!target) {
      this.options.log(`no link to reply on for ${address} (reply_to ${replyTo})`);
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
  }
}
