import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DryRunRequestSchema,
  RolloutActionSchema,
  RolloutListQuerySchema,
  RolloutRequestSchema,
  RolloutTargetStateSchema,
  targetKindOf,
  type RolloutChange,
} from '@twinscope/contract';
import { z } from 'zod';
import { actorOf, authorizeRequest } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf, queryOf } from '../http/validate.ts';
import type { RolloutService } from '../rollouts/rollout-service.ts';

const IdSchema = z.uuid({ message: 'A rollout id is a UUID.' });
const TargetQuerySchema = z
  .object({
    state: RolloutTargetStateSchema.optional(),
    wave: z.coerce.number().int().min(0).max(1000).optional(),
    after: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** What a rollout's change does to each target, as the policy names it. */
const changeAction = (change: RolloutChange) => (change.method ? 'method.invoke' : 'twin.write');

/**
 * Guarded fleet rollouts: anyone who may read follows them; Operators preview, start,
 * pause, resume, cancel and roll back; Admins approve past the canary.
 */
export function rolloutRoutes(rollouts: RolloutService): Router {
  const routes = policyRouter();
  routes.post('/rollouts/dry-run', async (req, res) => {
    const request = bodyOf(req.body, DryRunRequestSchema);
    authorizeRequest(res, changeAction(request.change), targetKindOf(request.moduleId));
    res.json(await rollouts.preview(request, callOf(res)));
  });
  routes.get('/rollouts', async (req, res) => {
    res.json(await rollouts.list(queryOf(req.query, RolloutListQuerySchema)));
  });
  routes.post('/rollouts', async (req, res) => {
    const request = bodyOf(req.body, RolloutRequestSchema);
    // Each target gets a twin write or a call: the policy's rule for that, before anything is stored.
    authorizeRequest(res, changeAction(request.change), targetKindOf(request.moduleId));
    const rollout = await rollouts.create(request, actorOf(res));
    res.status(201).json({ rollout });
  });
  routes.get('/rollouts/:id', async (req, res) => {
    res.json({ rollout: await rollouts.get(paramOf(req.params, 'id', IdSchema)) });
  });
  routes.get('/rollouts/:id/targets', async (req, res) => {
    const id = paramOf(req.params, 'id', IdSchema);
    res.json(await rollouts.targets(id, queryOf(req.query, TargetQuerySchema)));
  });
  for (const action of RolloutActionSchema.options) {
    routes.post(`/rollouts/:id/${action}`, async (req, res) => {
      const id = paramOf(req.params, 'id', IdSchema);
      res.json({ rollout: await rollouts.act(id, action, actorOf(res)) });
    });
  }
  return routes.router;
}
