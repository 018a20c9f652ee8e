import type { RequestHandler } from 'express';
import type { Role } from '@twinscope/contract';

export interface Operator {
  id: string;
  name: string;
  roles: Role[];
}

/**
 * Until Entra sign-in lands, the only mode is one local operator. Config refuses to start
 * this mode on anything but loopback, so only this machine reaches it; its role is
 * configurable (Admin by default) so the role checks are real and testable.
 */
export function localOperator(role: Role, csrfToken: string): RequestHandler {
  const operator: Operator = { id: 'local', name: 'Local operator', roles: [role] };
  return (_req, res, next) => {
    res.locals['operator'] = operator;
    res.locals['csrfToken'] = csrfToken;
    next();
  };
}
