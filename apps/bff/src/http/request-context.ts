import type { RequestHandler, Response } from 'express';
import { ClientGoneError, type CallContext } from '../core/call-context.ts';

/**
 * Gives each request a call context: hub calls made for it are abandoned when the browser
 * goes away, and counted against the caller's budget. Routes hand it on with `callOf`.
 */
export const requestContext: RequestHandler = (_req, res, next) => {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  });
  const context: CallContext = { signal: controller.signal };
  res.locals['call'] = context;
  next();
};

/** Once the operator is known (after sign-in checks): hub calls are charged to them. */
export const identifyCaller: RequestHandler = (_req, res, next) => {
  const operator = res.locals['operator'] as { id: string } | undefined;
  const context = res.locals['call'] as CallContext | undefined;
  if (context && operator) context.caller = operator.id;
  next();
};

/** The call context of this request, for the services and the hub adapter. */
export function callOf(res: Response): CallContext {
  return res.locals['call'] as CallContext;
}
