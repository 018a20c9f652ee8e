import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { ApiError } from '@twinscope/contract';
import type { Logger } from '../log.ts';
import { AppError } from '../core/app-error.ts';
import { ClientGoneError } from '../core/call-context.ts';
import type { SecurityEvents } from './security-events.ts';

/**
 * Turns what Express and its middleware raise for a client's mistake (bad JSON, too large,
 * a path that does not decode, a file that is not there) into contract errors: 4xx, never
 * a 500 and never an error log line.
 */
function fromExpress(error: unknown): AppError | undefined {
  const { type, status } = error as { type?: string; status?: unknown };
  if (type === 'entity.parse.failed')
    return new AppError('bad_request', 'The request body is not valid JSON.');
  if (type === 'entity.too.large')
    return new AppError('payload_too_large', 'The request body is larger than 256 KB.');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new AppError('unsupported_media_type', 'Send the body as UTF-8 JSON.');
  }
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (status === 404 || status === 403)
    return new AppError('not_found', 'There is nothing at this address.');
  if (status === 413)
    return new AppError('payload_too_large', 'The request body is larger than 256 KB.');
  if (status === 415) return new AppError('unsupported_media_type', 'Send the body as JSON.');
  return new AppError(
    'bad_request',
    'The request is malformed (check its address for a bad % escape).',
  );
}

/** The one error handler: `{ code, message, requestId }`, the cause logged, never a stack to the browser. */
export function errorHandler(logger: Logger, security: SecurityEvents): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    // Nobody is left to answer, and nothing went wrong on our side.
    if (error instanceof ClientGoneError || res.socket === null || res.socket.destroyed) {
      res.destroy();
      return;
    }
    const appError =
      error instanceof AppError
        ? error
        : (fromExpress(error) ??
          new AppError('internal_error', 'Twinscope failed to handle the request.'));
    const requestId = String(res.locals['requestId'] ?? '');
    if (appError.extras.refusedBy)
      security.refused(appError.extras.refusedBy, appError.message, req, res);
    if (appError.status >= 500) {
      const cause = error instanceof AppError ? error.extras.cause : error;
      logger.error('request failed', {
        requestId,
        method: req.method,
        path: req.path,
        code: appError.code,
        error:
          cause instanceof Error
            ? `${cause.constructor.name}: ${cause.message}`
            : String(cause ?? appError.message),
      });
    }
    const body: ApiError = {
      code: appError.code,
      message: appError.message,
      requestId,
      ...(appError.extras.violations ? { violations: appError.extras.violations } : {}),
      ...(appError.extras.current ? { current: appError.extras.current } : {}),
      ...(appError.extras.retryAfterSeconds !== undefined
        ? { retryAfterSeconds: appError.extras.retryAfterSeconds }
        : {}),
    };
    if (appError.extras.retryAfterSeconds !== undefined)
      res.set('Retry-After', String(Math.ceil(appError.extras.retryAfterSeconds)));
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(appError.status).json(body);
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(
    new AppError('not_found', `There is no API at ${req.method} ${req.originalUrl.split('?')[0]}.`),
  );
};
