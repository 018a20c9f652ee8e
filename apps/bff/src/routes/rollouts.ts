import { Router } from 'express';
import {
  DryRunRequestSchema,
  RolloutActionSchema,
  RolloutRequestSchema,
  RolloutTargetStateSchema,
} from '@twinscope/contract';
import { z } from 'zod';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { actorOf, requireRole } from '../http/authorize.ts';
import type { Operator } from '../http/local-auth.ts';
import { callOf } from '../http/request-context.ts';
import { parseWith } from '../http/validate.ts';
import type { HubBudget } from '../quota/hub-budget.ts';
import { dryRun } from '../rollouts/dry-run.ts';
import type { Rollouts } from '../rollouts/rollouts.ts';

const IdSchema = z.uuid({ message: 'A rollout id is a UUID.' });
const TargetQuerySchema = z
  .object({
    state: RolloutTargetStateSchema.optional(),
    wave: z.coerce.number().int().min(0).max(1000).optional(),
    after: z.string().max(300).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/**
 * Guarded fleet rollouts: anyone who may read follows them; Operators preview, start,
 * pause, resume, cancel and roll back; Admins approve past the canary.
 */
export function rolloutRoutes(hub: HubAdapter, budget: HubBudget, rollouts: Rollouts): Router {
  const router = Router();
  const operator = requireRole('Operator');
  router.post('/rollouts/dry-run', operator, async (req, res) => {
    res.json(await dryRun(hub, budget, parseWith(DryRunRequestSchema, req.body), callOf(res)));
  });
  router.get('/rollouts', async (_req, res) => {
    res.json({ items: await rollouts.list() });
  });
  router.post('/rollouts', operator, async (req, res) => {
    const rollout = await rollouts.create(parseWith(RolloutRequestSchema, req.body), actorOf(res));
    res.status(201).json({ rollout });
  });
  router.get('/rollouts/:id', async (req, res) => {
    res.json({ rollout: await rollouts.get(parseWith(IdSchema, req.params['id'])) });
  });
  router.get('/rollouts/:id/targets', async (req, res) => {
    const id = parseWith(IdSchema, req.params['id']);
    res.json(await rollouts.targets(id, parseWith(TargetQuerySchema, req.query)));
  });
  router.post('/rollouts/:id/:action', operator, async (req, res) => {
    const id = parseWith(IdSchema, req.params['id']);
    const action = parseWith(RolloutActionSchema, req.params['action']);
    const roles = (res.locals['operator'] as Operator).roles;
    res.json({ rollout: await rollouts.act(id, action, actorOf(res), roles) });
  });
  return router;
}
