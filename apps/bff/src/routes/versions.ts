import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  FleetActivityQuerySchema,
  ModuleIdSchema,
  TwinVersionsQuerySchema,
} from '@twinscope/contract';
import { z } from 'zod';
import { AppError } from '../core/app-error.ts';
import { parseWith } from '../http/validate.ts';
import type { TwinHistory } from '../history/twin-history.ts';

const VersionSchema = z.coerce.number().int().min(1, 'A twin version is a whole number from 1.');

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
    res.json(await historyOf().activity(parseWith(FleetActivityQuerySchema, req.query)));
  });
  for (const base of ['/devices/:deviceId', '/devices/:deviceId/modules/:moduleId']) {
    const refOf = (params: Record<string, unknown>) => ({
      deviceId: parseWith(DeviceIdSchema, params['deviceId']),
      ...(params['moduleId'] !== undefined
        ? { moduleId: parseWith(ModuleIdSchema, params['moduleId']) }
        : {}),
    });
    routes.get(`${base}/versions`, async (req, res) => {
      const ref = refOf(req.params);
      const { limit, before } = parseWith(TwinVersionsQuerySchema, req.query);
      res.json(
        await historyOf().versions(ref, { limit, ...(before !== undefined ? { before } : {}) }),
      );
    });
    routes.get(`${base}/versions/:version`, async (req, res) => {
      const ref = refOf(req.params);
      res.json(await historyOf().at(ref, parseWith(VersionSchema, req.params['version'])));
    });
  }
  return routes.router;
}
