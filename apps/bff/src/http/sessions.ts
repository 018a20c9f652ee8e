import session, { type SessionData, type Store } from 'express-session';
import type { Request, RequestHandler } from 'express';
import { AppError } from '../core/app-error.ts';
import type { Operator } from './local-auth.ts';
import type { SignedInUser } from '../core/roles.ts';
import type { PendingSignIn } from '../core/sign-in.ts';

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
 * Server-side sessions in an HttpOnly, SameSite=Lax cookie, kept in the store given (in
 * memory for one process, or in Redis so several BFF replicas share them).
 */
export function createSessions(
  settings: SessionSettings,
  { store, close }: { store: Store; close(): Promise<void> },
): Sessions {
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

/** Activity is recorded at most this often (idle timeouts are minutes long). */
const LAST_SEEN_GRANULARITY_MS = 15_000;

/** An express-session callback API as a promise. */
export const promised = (fn: (cb: (error?: unknown) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));

/**
 * The /api gate in sign-in mode: a live session makes the operator; anything else is 401
 * (the console then shows its sign-in page). Idle and absolute timeouts end sessions here.
 */
export function sessionOperator(sessions: Sessions): RequestHandler {
  return async (req: Request, res, next) => {
    const data = req.session;
    if (!data.user) {
      next(new AppError('unauthorized', 'Sign in to use Twinscope.'));
      return;
    }
    if (sessions.isOver(data)) {
      await promised((cb) => req.session.destroy(cb));
      next(new AppError('unauthorized', 'Your session has expired; sign in again.'));
      return;
    }
    if (Date.now() - (data.lastSeen ?? 0) > LAST_SEEN_GRANULARITY_MS) {
      data.lastSeen = Date.now();
      // Saved now, not when the response ends: a live stream ends long after a sign-out
      // elsewhere and must not write its stale copy back (that would revive the session).
      await promised((cb) => req.session.save(cb));
    }
    const operator: Operator = { id: data.user.id, name: data.user.name, roles: data.user.roles };
    res.locals['operator'] = operator;
    res.locals['user'] = data.user;
    res.locals['csrfToken'] = data.csrfToken;
    res.locals['sessionId'] = req.sessionID;
    next();
  };
}
