import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  ModuleCreateRequestSchema,
  ModuleIdSchema,
  ModuleUpdateRequestSchema,
  targetKindOf,
  type ConnectionStringResponse,
} from '@twinscope/contract';
import { actorOf, authorizeRequest } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { ModuleService } from '../services/module-service.ts';

export function moduleRoutes(modules: ModuleService): Router {
  const routes = policyRouter();
  const ids = (params: Record<string, unknown>) => ({
    deviceId: paramOf(params, 'deviceId', DeviceIdSchema),
    moduleId: paramOf(params, 'moduleId', ModuleIdSchema),
  });

  routes.post('/devices/:deviceId/modules', async (req, res) => {
    const deviceId = paramOf(req.params, 'deviceId', DeviceIdSchema);
    const module = await modules.create(
      deviceId,
      bodyOf(req.body, ModuleCreateRequestSchema),
      actorOf(res),
      callOf(res),
    );
    res.status(201).json({ module });
  });
  routes.patch('/devices/:deviceId/modules/:moduleId', async (req, res) => {
    const { deviceId, moduleId } = ids(req.params);
    const change = bodyOf(req.body, ModuleUpdateRequestSchema);
    if (change.regenerateKey) authorizeRequest(res, 'key.regenerate', targetKindOf(moduleId));
    res.json({
      module: await modules.update(deviceId, moduleId, change, actorOf(res), callOf(res)),
    });
  });
  routes.delete('/devices/:deviceId/modules/:moduleId', async (req, res) => {
    const { deviceId, moduleId } = ids(req.params);
    const etag =
      req.get('if-match')?.replace(/^W\//, '').replace(/^"|"$/g, '') ??
      (typeof req.query['etag'] === 'string' ? req.query['etag'] : undefined);
    await modules.delete(deviceId, moduleId, etag, actorOf(res), callOf(res));
    res.status(204).end();
  });
  // A POST, so revealing a key is always an explicit act and never a cacheable GET.
  routes.post('/devices/:deviceId/modules/:moduleId/connection-string', async (req, res) => {
    const { deviceId, moduleId } = ids(req.params);
    const body: ConnectionStringResponse = {
      connectionString: await modules.connectionString(
        deviceId,
        moduleId,
        actorOf(res),
        callOf(res),
      ),
    };
    res.json(body);
  });
  return routes.router;
}
