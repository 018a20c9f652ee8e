import { Router } from 'express';
import { DeviceIdSchema, TimelineQuerySchema } from '@twinscope/contract';
import { parseWith } from '../http/validate.ts';
import type { TimelineService } from '../services/timeline-service.ts';

/** A device's timeline: whoever may see the device may see what happened to it. */
export function timelineRoutes(timeline: TimelineService): Router {
  const router = Router();
  router.get('/devices/:deviceId/timeline', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.json(
      await timeline.read(
        parseWith(DeviceIdSchema, req.params['deviceId']),
        parseWith(TimelineQuerySchema, req.query),
      ),
    );
  });
  return router;
}
