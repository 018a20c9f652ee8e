import { randomBytes } from 'node:crypto';
import { Router, type Response } from 'express';
import type { LogoutResponse } from '@twinscope/contract';
import { rateLimit } from 'express-rate-limit';
import { ProviderUnavailableError, type SignIn } from '../core/sign-in.ts';
import { userFromClaims, type RoleMap } from '../core/roles.ts';
import { csrfCheck } from '../http/authorize.ts';
import { promised, type Sessions } from '../http/sessions.ts';
import type { Logger } from '../log.ts';

export interface AuthDeps {
  client: SignIn;
  sessions: Sessions;
  roleMap: RoleMap;
  logger: Logger;
  /** Sign-in requests per client address per minute. */
  rateLimitPerMinute: number;
  /** Ends the live streams of a session that signed out. */
  endStreams(sessionId: string): void;
}

/** A sign-in attempt older than this is refused at the callback. */
const PENDING_MAX_MS = 10 * 60 * 1000;

const esc = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A small self-contained page: sign-in problems are shown, never a stack trace. */
function authPage(res: Response, status: number, title: string, message: string): void {
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Twinscope</title><meta name="viewport" content="width=device-width"><style>body{font-family:system-ui,sans-serif;background:#f5f5f5;color:#242424;margin:0}main{max-width:480px;margin:64px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12)}h1{font-size:20px}a{color:#0f6cbd}@media (prefers-color-scheme:dark){body{background:#1f1f1f;color:#eee}main{background:#292929}a{color:#6cb8f6}}</style></head><body><main><h1>${esc(title)}</h1><p>${esc(message)}</p><p><a href="/auth/login">Sign in again</a> · <a href="/">Twinscope</a></p></main></body></html>`,
    );
}

/** Only paths on this origin: an open redirect through returnTo is not possible. */
function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return '/';
  if (value.startsWith('/auth/') || /[\\\r\n]/.test(value)) return '/';
  return value.slice(0, 2000);
}

/** msal error codes that mean the callback cannot be trusted or used. */
const REJECTED = new Set([
  'state_mismatch',
  'nonce_mismatch',
  'invalid_grant',
  'invalid_state',
  'invalid_request',
  'invalid_client',
  'unauthorized_client',
  'access_denied',
]);

export function authRoutes(deps: AuthDeps): Router {
  const router = Router();
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) =>
      authPage(res, 429, 'Too many sign-in attempts', 'Wait a minute, then try again.'),
  });
  router.use('/auth', limiter);

  router.get('/auth/login', async (req, res) => {
    let begun;
    try {
      begun = await deps.client.begin(safeReturnTo(req.query['returnTo']));
    } catch (error) {
      if (error instanceof ProviderUnavailableError) {
        deps.logger.warn('sign-in: identity provider unreachable', { message: error.message });
        authPage(res, 503, 'Sign-in is unavailable', `${error.message}. Try again shortly.`);
        return;
      }
      throw error;
    }
    req.session.pending = begun.pending;
    await promised((cb) => req.session.save(cb));
    res.redirect(303, begun.url);
  });

  router.get('/auth/callback', async (req, res) => {
    const pending = req.session.pending;
    const code = typeof req.query['code'] === 'string' ? req.query['code'] : undefined;
    const state = typeof req.query['state'] === 'string' ? req.query['state'] : undefined;
    if (typeof req.query['error'] === 'string') {
      delete req.session.pending;
      const description = String(req.query['error_description'] ?? req.query['error']);
      authPage(res, 403, 'Sign-in was not completed', description.slice(0, 500));
      return;
    }
    if (!pending || !code || !state || Date.now() - pending.createdAt > PENDING_MAX_MS) {
      // Replayed, forged or stale: this browser has no sign-in in progress for it.
      delete req.session.pending;
      authPage(
        res,
        400,
        'This sign-in link is not valid',
        'It was already used, has expired, or did not start in this browser. Nothing was signed in.',
      );
      return;
    }
    // Used once, whatever happens next.
    delete req.session.pending;
    let redeemed;
    try {
      redeemed = await deps.client.complete(pending, code, state);
    } catch (error) {
      const errorCode = (error as { errorCode?: string }).errorCode ?? '';
      if (error instanceof ProviderUnavailableError || !REJECTED.has(errorCode)) {
        deps.logger.warn('sign-in: code redemption failed', {
          errorCode,
          message: (error as Error).message.split('\n')[0],
        });
      }
      if (REJECTED.has(errorCode)) {
        authPage(
          res,
          400,
          'This sign-in could not be verified',
          `The identity provider's answer did not match this browser's sign-in (${errorCode}). Nothing was signed in.`,
        );
      } else {
        authPage(
          res,
          503,
          'Sign-in is unavailable',
          'The identity provider could not be reached to finish signing in. Nothing was signed in; try again shortly.',
        );
      }
      return;
    }
    const user = userFromClaims(redeemed.claims, deps.roleMap);
    // A new session id once signed in, so an id planted before sign-in is worthless.
    await promised((cb) => req.session.regenerate(cb));
    const now = Date.now();
    req.session.user = user;
    req.session.csrfToken = randomBytes(32).toString('base64url');
    req.session.createdAt = now;
    req.session.lastSeen = now;
    req.session.tokenCache = redeemed.tokenCache;
    await promised((cb) => req.session.save(cb));
    deps.logger.info('signed in', { user: user.id, roles: user.roles });
    res.redirect(303, pending.returnTo);
  });

  // A fetch with the CSRF header answering where to go, not a form post: the console then
  // navigates to the provider, which CSP's form-action would not allow for a form.
  router.post('/auth/logout', async (req, res, next) => {
    const sessionId = req.sessionID;
    if (req.session.user) {
      res.locals['csrfToken'] = req.session.csrfToken;
      const refused = await new Promise<unknown>((resolve) => csrfCheck(req, res, resolve));
      if (refused) {
        next(refused);
        return;
      }
    }
    const logoutUrl = await deps.client.logoutUrl();
    await promised((cb) => req.session.destroy(cb));
    deps.endStreams(sessionId);
    res.clearCookie(deps.sessions.settings.secure ? '__Host-twinscope' : 'twinscope.sid', {
      path: '/',
    });
    const body: LogoutResponse = { logoutUrl };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
