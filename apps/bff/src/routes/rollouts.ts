import { Router } from 'express';
import { DryRunRequestSchema } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { requireRole } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { parseWith } from '../http/validate.ts';
import type { HubBudget } from '../quota/hub-budget.ts';
import { dryRun } from '../rollouts/dry-run.ts';

/** Guarded fleet rollouts (Operators): first, the dry run of a change over a list filter. */
export function rolloutRoutes(hub: HubAdapter, budget: HubBudget): Router {
  const router = Router();
  router.post('/rollouts/dry-run', requireRole('Operator'), async (req, res) => {
    res.json(await dryRun(hub, budget, parseWith(DryRunRequestSchema, req.body), callOf(res)));
  });
  return router;
}
