import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  DeviceListQuerySchema,
  ModuleIdSchema,
  TwinPatchRequestSchema,
  TwinReplaceRequestSchema,
} from '@twinscope/contract';
import { actorOf } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { parseWith } from '../http/validate.ts';
import type { DeviceService } from '../services/device-service.ts';
import type { TwinService } from '../services/twin-service.ts';

export function deviceRoutes(devices: DeviceService, twins: TwinService): Router {
  const routes = policyRouter();
  const deviceId = (value: unknown) => parseWith(DeviceIdSchema, value);
  const moduleId = (value: unknown) => parseWith(ModuleIdSchema, value);

  routes.get('/devices', async (req, res) => {
    res.json(await devices.list(parseWith(DeviceListQuerySchema, req.query), callOf(res)));
  });
  routes.get('/devices/:deviceId', async (req, res) => {
    res.json(await devices.device(deviceId(req.params['deviceId']), callOf(res)));
  });
  routes.get('/devices/:deviceId/modules', async (req, res) => {
    res.json(await devices.modules(deviceId(req.params['deviceId']), callOf(res)));
  });
  routes.get('/devices/:deviceId/modules/:moduleId', async (req, res) => {
    res.json(
      await devices.module(
        deviceId(req.params['deviceId']),
        moduleId(req.params['moduleId']),
        callOf(res),
      ),
    );
  });
  // A device twin and a module twin are written the same way; only the path differs.
  for (const path of ['/devices/:deviceId/twin', '/devices/:deviceId/modules/:moduleId/twin']) {
    const target = (params: Record<string, unknown>) =>
      [
        deviceId(params['deviceId']),
        params['moduleId'] === undefined ? undefined : moduleId(params['moduleId']),
      ] as const;
    routes.patch(path, async (req, res) => {
      const patch = parseWith(TwinPatchRequestSchema, req.body);
      res.json({
        twin: await twins.patch(...target(req.params), patch, actorOf(res), callOf(res)),
      });
    });
    routes.put(path, async (req, res) => {
      const replacement = parseWith(TwinReplaceRequestSchema, req.body);
      res.json({
        twin: await twins.replace(...target(req.params), replacement, actorOf(res), callOf(res)),
      });
    });
  }
  return routes.router;
}
