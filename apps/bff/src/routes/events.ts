import { Router } from 'express';
import { WatchRequestSchema } from '@twinscope/contract';
import { AppError } from '../http/app-error.ts';
import { parseWith } from '../http/validate.ts';
import type { EventBroker } from '../live/broker.ts';

export function eventRoutes(broker: EventBroker): Router {
  const router = Router();
  router.get('/events', (req, res) => {
    broker.open(
      res,
      req.get('last-event-id') ??
        (typeof req.query['lastEventId'] === 'string' ? req.query['lastEventId'] : undefined),
    );
  });
  router.post('/events/:streamId/watch', (req, res) => {
    const { twins } = parseWith(WatchRequestSchema, req.body);
    if (!broker.watch(String(req.params['streamId']), twins)) {
      throw new AppError('not_found', 'That live stream has ended; the page will reconnect.');
    }
    res.status(204).end();
  });
  return router;
}
