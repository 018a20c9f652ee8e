import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { PolicyAction, Role, TargetKind } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { authorize } from '../core/authorize.ts';
import type { Operator } from './local-auth.ts';

/** The roles of whoever makes this request (none before sign-in). */
export function rolesOf(res: Response): readonly Role[] {
  return (res.locals['operator'] as Operator | undefined)?.roles ?? [];
}

/**
 * The policy's check for what only the request's body says (a key regenerated, the audit
 * trail watched live); the route's own rule was checked before it ran.
 */
export function authorizeRequest(res: Response, action: PolicyAction, kind: TargetKind): void {
  authorize(rolesOf(res), action, kind);
}

/**
 * Every state-changing request carries the session's token in X-CSRF-Token: a form or a
 * script on another site cannot set that header without a CORS preflight, which is refused.
 */
export const csrfCheck: RequestHandler = (req, res, next) => {
  if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) {
    next();
    return;
  }
  const expected = Buffer.from(String(res.locals['csrfToken'] ?? ''));
  const given = Buffer.from(req.get('x-csrf-token') ?? '');
  if (
    expected.length === 0 ||
    given.length !== expected.length ||
    !timingSafeEqual(given, expected)
  ) {
    next(
      new AppError(
        'forbidden',
        'The request lacks a valid X-CSRF-Token header; reload the page and try again.',
        { refusedBy: 'csrf' },
      ),
    );
    return;
  }
  next();
};

/** Who is making this request, as the audit trail records it. */
export function actorOf(res: Response): { id: string; name: string } {
  const operator = res.locals['operator'] as Operator;
  return { id: operator.id, name: operator.name };
}
