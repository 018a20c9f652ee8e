import type { Connection, Receiver, Sender } from 'rhea';
import type { ClientCertificate } from '../auth/x509.ts';

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
