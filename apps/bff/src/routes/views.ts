import type { Router } from 'express';
import { SaveViewRequestSchema } from '@twinscope/contract';
import { z } from 'zod';
import { actorOf, authorizeRequest } from '../http/authorize.ts';
import { policyRouter } from '../http/policy-router.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { ViewService } from '../services/view-service.ts';

const ViewIdSchema = z.uuid('A saved view id.');

/** Saved list views: one's own for everyone; the team's shared ones by Operators. */
export function viewRoutes(views: ViewService): Router {
  const routes = policyRouter();
  routes.get('/views', async (_req, res) => {
    res.json({ items: await views.list(actorOf(res)) });
  });
  routes.post('/views', async (req, res) => {
    const request = bodyOf(req.body ?? {}, SaveViewRequestSchema);
    if (request.shared) authorizeRequest(res, 'view.share', 'fleet');
    res.status(201).json({ view: await views.save(request, actorOf(res)) });
  });
  routes.delete('/views/:id', async (req, res) => {
    const actor = actorOf(res);
    const view = await views.get(paramOf(req.params, 'id', ViewIdSchema), actor);
    if (view.shared) authorizeRequest(res, 'view.share', 'fleet');
    await views.delete(view, actor);
    res.status(204).end();
  });
  return routes.router;
}
