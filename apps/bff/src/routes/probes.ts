import type { RequestHandler, Router } from 'express';
import type { Readiness } from '../core/readiness.ts';
import { policyRouter } from '../http/policy-router.ts';

/**
 * The platform's probes, outside /api and before every guard (a kubelet or Container Apps
 * calls them by the pod's address, without sign-in): `/healthz` says the process serves,
 * `/readyz` whether it should be sent traffic, and if not, which dependency and why.
 */
/** The process serves: the one liveness answer, at `/healthz` and `/api/health`. */
export const alive: RequestHandler = (_req, res) => {
  res.set('Cache-Control', 'no-store').json({ status: 'ok' });
};

export function probeRoutes(readiness: Readiness): Router {
  const routes = policyRouter();
  routes.get('/healthz', alive);
  routes.get('/readyz', async (_req, res) => {
    const report = await readiness.report();
    res
      .status(report.ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(report);
  });
  return routes.router;
}
