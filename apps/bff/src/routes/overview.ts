import type { Router } from 'express';
import { OverviewSettingsSchema } from '@twinscope/contract';
import { actorOf } from '../http/authorize.ts';
import { policyRouter } from '../http/policy-router.ts';
import { bodyOf } from '../http/validate.ts';
import type { Overview } from '../overview/overview.ts';

/**
 * The overview: what the last scheduled look at the hub found, read from the team's
 * database (no hub call however many tabs ask), and what the team chose it to show.
 */
export function overviewRoutes(overview: Overview): Router {
  const routes = policyRouter();
  routes.get('/overview', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await overview.read());
  });
  routes.put('/overview/settings', async (req, res) => {
    const settings = bodyOf(req.body ?? {}, OverviewSettingsSchema);
    res.json({ settings: await overview.saveSettings(settings, actorOf(res)) });
  });
  return routes.router;
}
