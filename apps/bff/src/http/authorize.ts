import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { hasRole, type Role } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import type { Operator } from './local-auth.ts';

/** Refuses the request unless the operator holds `role` or a higher one. */
export function requireRole(role: Role): RequestHandler {
  return (_req, res, next) => {
    const operator = res.locals['operator'] as Operator | undefined;
    if (!operator || !hasRole(operator.roles, role)) {
      next(
        new AppError(
          'forbidden',
          `This needs the ${role} role; you have ${operator?.roles.join(', ') || 'no role'}.`,
        ),
      );
      return;
    }
    next();
  };
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
