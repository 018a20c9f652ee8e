import type { RequestHandler } from 'express';
import { AppError } from '../core/app-error.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** The console's dev server (Vite) proxies /api with the browser's Host: its port is allowed. */
export const DEV_SERVER_PORT = 5173;

/** The Host headers a browser on this machine sends to reach the local BFF on `port`. */
export function loopbackHosts(port: number, extra: readonly string[] = []): Set<string> {
  const hosts = new Set(extra.map((host) => host.toLowerCase()));
  for (const name of LOOPBACK_NAMES) {
    for (const p of [port, DEV_SERVER_PORT]) hosts.add(`${name}:${p}`);
    if (port === 80) hosts.add(name);
  }
  return hosts;
}

/**
 * Local mode has no sign-in, so a page on any site that rebinds its DNS name to 127.0.0.1
 * would be served as the local Admin. Only the loopback names (and any configured) are
 * answered; anything else gets 421 before it reaches a route.
 */
export function hostCheck(allowed: () => ReadonlySet<string>): RequestHandler {
  return (req, _res, next) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (allowed().has(host)) {
      next();
      return;
    }
    next(
      new AppError(
        'misdirected_request',
        `Twinscope's local mode answers only at ${[...allowed()][0] ?? 'its loopback address'}; this request named ${host || 'no host'}.`,
        { refusedBy: 'host' },
      ),
    );
  };
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/**
 * A state-changing request that a browser says comes from another site is refused, in both
 * modes: `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the address the
 * request was sent to nor the public URL. Requests with neither header (the benchmarks,
 * curl) still need the CSRF token.
 */
export function crossSiteCheck(publicOrigin: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!STATE_CHANGING.has(req.method)) {
      next();
      return;
    }
    const refuse = (why: string) =>
      next(
        new AppError(
          'forbidden',
          `This change came from another site (${why}); Twinscope only accepts changes made in its own pages.`,
          { refusedBy: 'origin' },
        ),
      );
    if (req.get('sec-fetch-site') === 'cross-site') {
      refuse('Sec-Fetch-Site: cross-site');
      return;
    }
    const origin = req.get('origin');
    if (origin !== undefined) {
      const host = (req.headers.host ?? '').toLowerCase();
      const given = originOf(origin);
      // `Origin: null` (a sandboxed frame, a file) is no origin of ours either.
      const ours = given !== undefined && (new URL(given).host === host || given === publicOrigin);
      if (!ours) {
        refuse(`Origin ${origin.slice(0, 100)}`);
        return;
      }
    }
    next();
  };
}
