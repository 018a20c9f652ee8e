import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  ModuleIdSchema,
  ModuleLogsQuerySchema,
  SetModulesRequestSchema,
  type ModuleLogsResponse,
} from '@twinscope/contract';
import { actorOf } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf, queryOf } from '../http/validate.ts';
import type { EdgeService } from '../services/edge-service.ts';

/**
 * IoT Edge devices: anyone who may read sees modules and deployments; restarting a module
 * and reading its logs are the Operator's; setting modules (a deployment) the Admin's.
 */
export function edgeRoutes(edge: EdgeService): Router {
  const routes = policyRouter();
  routes.get('/devices/:deviceId/edge', async (req, res) => {
    res.json(await edge.overview(paramOf(req.params, 'deviceId', DeviceIdSchema), callOf(res)));
  });
  routes.post('/devices/:deviceId/edge/modules/:module/restart', async (req, res) => {
    await edge.restartModule(
      paramOf(req.params, 'deviceId', DeviceIdSchema),
      paramOf(req.params, 'module', ModuleIdSchema),
      actorOf(res),
      callOf(res),
    );
    res.status(204).end();
  });
  routes.get('/devices/:deviceId/edge/modules/:module/logs', async (req, res) => {
    const body: ModuleLogsResponse = await edge.logs(
      paramOf(req.params, 'deviceId', DeviceIdSchema),
      paramOf(req.params, 'module', ModuleIdSchema),
      queryOf(req.query, ModuleLogsQuerySchema),
      callOf(res),
    );
    res.json(body);
  });
  routes.put('/devices/:deviceId/edge/modules-content', async (req, res) => {
    await edge.setModules(
      paramOf(req.params, 'deviceId', DeviceIdSchema),
      bodyOf(req.body, SetModulesRequestSchema),
      actorOf(res),
      callOf(res),
    );
    res.status(204).end();
  });
  return routes.router;
}
