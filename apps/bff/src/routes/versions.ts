import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  FleetActivityQuerySchema,
  ModuleIdSchema,
  TwinVersionNumberSchema,
  TwinVersionsQuerySchema,
} from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { paramOf, queryOf } from '../http/validate.ts';
import type { TwinHistory } from '../history/twin-history.ts';

/**
 * Every twin's history (whoever changed it): its versions, the twin at any of them, and the
 * fleet's latest changes.
 */
export function versionRoutes(history: TwinHistory | undefined): Router {
  const routes = policyRouter();
  const historyOf = () => {
    if (!history)
      throw new AppError(
        'not_found',
        "Twin history needs the hub's Event Hubs-compatible endpoint (TWINSCOPE_EVENTS_*), where every twin change is read.",
      );
    return history;
  };
  // The fleet's latest twin changes, whoever made them (anyone who may read twins).
  routes.get('/activity', async (req, res) => {
    res.json(await historyOf().activity(queryOf(req.query, FleetActivityQuerySchema)));
  });
  for (const base of ['/devices/:deviceId', '/devices/:deviceId/modules/:moduleId']) {
    const refOf = (params: Record<string, unknown>) => ({
      deviceId: paramOf(params, 'deviceId', DeviceIdSchema),
      ...(params['moduleId'] !== undefined
        ? { moduleId: paramOf(params, 'moduleId', ModuleIdSchema) }
        : {}),
    });
    routes.get(`${base}/versions`, async (req, res) => {
      const ref = refOf(req.params);
      const { limit, before } = queryOf(req.query, TwinVersionsQuerySchema);
      res.json(
        await historyOf().versions(ref, { limit, ...(before !== undefined ? { before } : {}) }),
      );
    });
    routes.get(`${base}/versions/:version`, async (req, res) => {
      const ref = refOf(req.params);
      res.json(await historyOf().at(ref, paramOf(req.params, 'version', TwinVersionNumberSchema)));
    });
  }
  return routes.router;
}
