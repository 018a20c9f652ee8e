import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';

/** What the hub adapter may know of the request a hub call is made for. */
export interface RequestContext {
  /** Aborts when the browser goes away before the answer is sent. */
  signal: AbortSignal;
  /** Who asks (their user id), once known: budgets are kept per user. */
  caller?: string;
}

/** The browser closed the connection: whatever the request still waits for can stop. */
export class ClientGoneError extends Error {
  constructor() {
    super('The browser went away before the answer.');
  }
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Gives each request a context that outlives `await`s: hub calls made for it are abandoned
 * when the browser goes away, and are counted against the caller's budget. Routes and
 * services pass nothing along; the adapter asks `currentRequest()`.
 */
export const requestContext: RequestHandler = (_req, res, next) => {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  });
  storage.run({ signal: controller.signal }, next);
};

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
