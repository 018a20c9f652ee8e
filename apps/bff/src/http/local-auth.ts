import type { RequestHandler } from 'express';
import type { Role } from '@twinscope/contract';

export interface Operator {
  id: string;
  name: string;
  roles: Role[];
}

/**
 * Until Entra sign-in lands, the only mode is one local operator with every role. Config
 * refuses to start this mode on anything but loopback, so only this machine reaches it.
 */
export function localOperator(): RequestHandler {
  const operator: Operator = { id: 'local', name: 'Local operator', roles: ['Admin'] };
  return (_req, res, next) => {
    res.locals['operator'] = operator;
    next();
  };
}
