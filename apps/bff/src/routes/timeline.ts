import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import { DeviceIdSchema, TimelineQuerySchema } from '@twinscope/contract';
import { callOf } from '../http/request-context.ts';
import { paramOf, queryOf } from '../http/validate.ts';
import type { TimelineService } from '../services/timeline-service.ts';

/** A device's timeline: whoever may see the device may see what happened to it. */
export function timelineRoutes(timeline: TimelineService): Router {
  const routes = policyRouter();
  routes.get('/devices/:deviceId/timeline', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(
      await timeline.read(
        paramOf(req.params, 'deviceId', DeviceIdSchema),
        queryOf(req.query, TimelineQuerySchema),
        callOf(res).caller ?? 'anonymous',
      ),
    );
  });
  return routes.router;
}
