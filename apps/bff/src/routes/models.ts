import type { Router } from 'express';
import { DeviceIdSchema, ModuleIdSchema } from '@twinscope/contract';
import { policyRouter } from '../http/policy-router.ts';
import { callOf } from '../http/request-context.ts';
import { paramOf } from '../http/validate.ts';
import type { ModelService } from '../services/model-service.ts';

/** A Plug and Play device's or module's model (DTDL), from the model repository. */
export function modelRoutes(models: ModelService): Router {
  const routes = policyRouter();
  routes.get('/devices/:deviceId/model', async (req, res) => {
    res.json(
      await models.of(paramOf(req.params, 'deviceId', DeviceIdSchema), undefined, callOf(res)),
    );
  });
  routes.get('/devices/:deviceId/modules/:moduleId/model', async (req, res) => {
    res.json(
      await models.of(
        paramOf(req.params, 'deviceId', DeviceIdSchema),
        paramOf(req.params, 'moduleId', ModuleIdSchema),
        callOf(res),
      ),
    );
  });
  return routes.router;
}
