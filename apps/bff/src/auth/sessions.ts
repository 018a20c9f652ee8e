import { RedisStore } from 'connect-redis';
import session, { type SessionData, type Store } from 'express-session';
import type { RequestHandler } from 'express';
import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import type { SignedInUser } from './roles.ts';
import type { PendingSignIn } from '../adapters/sign-in-client.ts';

declare module 'express-session' {
  interface SessionData {
    /** Leg 1 of a sign-in: PKCE verifier, state and nonce, until the callback uses them. */
    pending?: PendingSignIn;
    user?: SignedInUser;
    csrfToken?: string;
    createdAt?: number;
    lastSeen?: number;
    /** This session's own msal token cache, serialized. */
    tokenCache?: string;
  }
}

export interface SessionSettings {
  secrets: string[];
  idleMs: number;
  absoluteMs: number;
  /** Cookies only over HTTPS (the public URL is https). */
  secure: boolean;
  redisUrl?: string;
}

export interface Sessions {
  middleware: RequestHandler;
  store: Store;
  settings: SessionSettings;
  /** Whether a session is over: signed out, idle too long or past its absolute lifetime. */
  isOver(data: SessionData | null | undefined, now?: number): boolean;
  /** Whether the session with this id still lets its user in (asked by live streams). */
  isLive(sessionId: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Server-side sessions in an HttpOnly, SameSite=Lax cookie: in memory for one process, or in
 * Redis (connect-redis + node-redis) so several BFF replicas share them.
 */
export async function createSessions(settings: SessionSettings, logger: Logger): Promise<Sessions> {
  let store: Store;
  let close = async () => undefined as void;
  if (settings.redisUrl) {
    const client = createClient({ url: settings.redisUrl });
    // The URL may carry a password: log what failed, never where.
    client.on('error', (error: Error) =>
      logger.warn('session store (Redis) error', { message: error.message }),
    );
    await client.connect();
    store = new RedisStore({ client, prefix: 'twinscope:sess:' });
    close = async () => {
      await client.close();
    };
  } else {
    store = new session.MemoryStore();
  }
  const isOver = (data: SessionData | null | undefined, now = Date.now()) =>
    !data?.user ||
    now - (data.createdAt ?? 0) > settings.absoluteMs ||
    now - (data.lastSeen ?? 0) > settings.idleMs;
  const middleware = session({
    name: settings.secure ? '__Host-twinscope' : 'twinscope.sid',
    secret: settings.secrets,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: settings.secure,
      path: '/',
      maxAge: settings.idleMs,
    },
  });
  return {
    middleware,
    store,
    settings,
    isOver,
    isLive: (sessionId) =>
      new Promise((resolve) => {
        store.get(sessionId, (error, data) => {
          // A store hiccup does not end anyone's session; the next check decides.
          if (error) resolve(true);
          else resolve(!isOver(data));
        });
      }),
    close,
  };
}
