import rhea, { type EventContext, type Receiver, type Sender } from 'rhea';
import { entityPath } from './addresses.ts';
import { CONDITION, type AmqpConnection } from './connection.ts';

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
  /** Accepts the link and answers its handlers, or refuses it (`AmqpRefusal`). */
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

/** The accepted outcome (AMQP 1.0 §3.4.2, descriptor 0x24), as a delivery's state. */
const ACCEPTED = rhea.types.described(rhea.types.wrap_ulong(0x24), rhea.types.wrap_list([]));

/** Sets the attach the server answers with (rhea builds it from `local.attach`, which its typings do not name). */
function answerMaxMessageSize(link: Sender | Receiver, bytes: number): void {
  const local: unknown = Reflect.get(link, 'local');
  const attach: unknown =
    typeof local === 'object' && local ? Reflect.get(local, 'attach') : undefined;
  if (typeof attach === 'object' && attach) Reflect.set(attach, 'max_message_size', bytes);
}

/** The entity a link names (its source for a server sender, its target for a receiver). */
export const addressOf = (link: Sender | Receiver): string =>
  entityPath((link.is_sender() ? link.source?.address : link.target?.address) ?? '');

/**
 * Link routing: each link the client attaches is read once into the entity it names, matched
 * to the first route of its role, and kept with the handlers that route answered; the
 * router then hands the link's events to them. Unknown entities are refused as IoT Hub
 * refuses them.
 */
export class LinkRouter {
  private readonly handlers = new WeakMap<Sender | Receiver, LinkHandlers>();

  constructor(
    private readonly options: {
      routes: readonly LinkRoute[];
      /** Entities served elsewhere (`$cbs`, `$management`): attached, not routed. */
      reserved(address: string): boolean;
      /**
       * The largest message a link takes, said in every attach the server answers (the C SDK
       * sends nothing on a link whose peer does not say it).
       */
      maxMessageBytes?: number;
      log(line: string): void;
    },
  ) {}

  open(link: Sender | Receiver, connection: AmqpConnection): void {
    // The server's attach names the same terminus the client asked for.
    if (link.source) link.set_source(link.source);
    if (link.target) link.set_target(link.target);
    if (this.options.maxMessageBytes) answerMaxMessageSize(link, this.options.maxMessageBytes);
    const address = addressOf(link);
    if (this.options.reserved(address)) return;
    const role = link.is_sender() ? 'sender' : 'receiver';
    for (const route of this.options.routes) {
      if (route.role !== role) continue;
      const params = route.match(address);
      if (!params) continue;
      try {
        this.handlers.set(link, route.open(link, params, connection));
      } catch (error) {
        if (error instanceof AmqpRefusal) this.refuse(link, error.condition, error.message);
        else {
          this.options.log(`opening ${address} failed: ${(error as Error).message}`);
          this.refuse(link, CONDITION.internal, 'The hub failed to open the link.');
        }
      }
      return;
    }
    this.refuse(
      link,
      role === 'receiver' ? CONDITION.notAllowed : CONDITION.notFound,
      `The messaging entity '${address}' could not be found.`,
    );
  }

  sendable(sender: Sender): void {
    this.handlers.get(sender)?.sendable?.();
  }

  message(receiver: Receiver, context: EventContext): void {
    try {
      this.handlers.get(receiver)?.message?.(context);
    } catch (error) {
      this.options.log(`message on ${addressOf(receiver)} failed: ${(error as Error).message}`);
    }
  }

  /** The client settled a delivery a server sender sent. */
  settled(
    sender: Sender,
    outcome: 'accepted' | 'rejected' | 'released' | 'modified',
    context: EventContext,
  ): void {
    this.handlers.get(sender)?.settled?.(outcome, context);
    // A client that sends its outcome unsettled (.NET completing, rejecting or abandoning
    // a message or a feedback batch) waits for the hub's: settled, accepted, whichever it
    // sent, as IoT Hub answers (anything else fails the client's call).
    const delivery = context.delivery;
    if (delivery && !delivery.remote_settled) delivery.update(true, ACCEPTED);
  }

  /** The link is gone (closed by either side, or with its connection). */
  closed(link: Sender | Receiver): void {
    const handlers = this.handlers.get(link);
    this.handlers.delete(link);
    handlers?.closed?.();
  }

  private refuse(link: Sender | Receiver, condition: string, description: string): void {
    this.options.log(`link ${addressOf(link) || link.name} refused: ${description}`);
    link.close({ condition, description });
  }
}
