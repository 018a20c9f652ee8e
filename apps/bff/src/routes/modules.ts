import { Router } from 'express';
import {
  DeviceIdSchema,
  ModuleCreateRequestSchema,
  ModuleIdSchema,
  ModuleUpdateRequestSchema,
  type ConnectionStringResponse,
} from '@twinscope/contract';
import { actorOf, requireRole } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { parseWith } from '../http/validate.ts';
import type { ModuleService } from '../services/module-service.ts';

export function moduleRoutes(modules: ModuleService): Router {
  const router = Router();
  const admin = requireRole('Admin');
  const ids = (params: Record<string, unknown>) => ({
    deviceId: parseWith(DeviceIdSchema, params['deviceId']),
    moduleId: parseWith(ModuleIdSchema, params['moduleId']),
  });

  router.post('/devices/:deviceId/modules', admin, async (req, res) => {
    const deviceId = parseWith(DeviceIdSchema, req.params['deviceId']);
    const module = await modules.create(
      deviceId,
      parseWith(ModuleCreateRequestSchema, req.body),
      actorOf(res),
      callOf(res),
    );
    res.status(201).json({ module });
  });
  router.patch('/devices/:deviceId/modules/:moduleId', admin, async (req, res) => {
    const { deviceId, moduleId } = ids(req.params);
    res.json({
      module: await modules.update(
        deviceId,
        moduleId,
        parseWith(ModuleUpdateRequestSchema, req.body),
        actorOf(res),
        callOf(res),
      ),
    });
  });
  router.delete('/devices/:deviceId/modules/:moduleId', admin, async (req, res) => {
    const { deviceId, moduleId } = ids(req.params);
    const etag =
      req.get('if-match')?.replace(/^W\//, '').replace(/^"|"$/g, '') ??
      (typeof req.query['etag'] === 'string' ? req.query['etag'] : undefined);
    await modules.delete(deviceId, moduleId, etag, actorOf(res), callOf(res));
    res.status(204).end();
  });
  // A POST, so revealing a key is always an explicit act and never a cacheable GET.
  router.post('/devices/:deviceId/modules/:moduleId/connection-string', admin, async (req, res) => {
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
  return router;
}
