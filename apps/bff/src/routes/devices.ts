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
import { bodyOf, paramOf, queryOf } from '../http/validate.ts';
import type { DeviceService } from '../services/device-service.ts';
import type { TwinService } from '../services/twin-service.ts';

/** What a twin write may hold, for a body that holds something else. */
const TWIN_FIELDS = 'Only tags and desired properties can be changed here.';

export function deviceRoutes(devices: DeviceService, twins: TwinService): Router {
  const routes = policyRouter();
  const deviceId = (params: Record<string, unknown>) => paramOf(params, 'deviceId', DeviceIdSchema);
  const moduleId = (params: Record<string, unknown>) => paramOf(params, 'moduleId', ModuleIdSchema);

  routes.get('/devices', async (req, res) => {
    res.json(await devices.list(queryOf(req.query, DeviceListQuerySchema), callOf(res)));
  });
  // The fleet's module twins, filtered like the device list (FROM devices.modules).
  routes.get('/modules', async (req, res) => {
    res.json(await devices.listModules(queryOf(req.query, DeviceListQuerySchema), callOf(res)));
  });
  routes.get('/devices/:deviceId', async (req, res) => {
    res.json(await devices.device(deviceId(req.params), callOf(res)));
  });
  routes.get('/devices/:deviceId/modules', async (req, res) => {
    res.json(await devices.modules(deviceId(req.params), callOf(res)));
  });
  routes.get('/devices/:deviceId/modules/:moduleId', async (req, res) => {
    res.json(await devices.module(deviceId(req.params), moduleId(req.params), callOf(res)));
  });
  // A device twin and a module twin are written the same way; only the path differs.
  for (const path of ['/devices/:deviceId/twin', '/devices/:deviceId/modules/:moduleId/twin']) {
    const target = (params: Record<string, unknown>) =>
      [deviceId(params), params['moduleId'] === undefined ? undefined : moduleId(params)] as const;
    routes.patch(path, async (req, res) => {
      const patch = bodyOf(req.body, TwinPatchRequestSchema, TWIN_FIELDS);
      res.json({
        twin: await twins.patch(...target(req.params), patch, actorOf(res), callOf(res)),
      });
    });
    routes.put(path, async (req, res) => {
      const replacement = bodyOf(req.body, TwinReplaceRequestSchema, TWIN_FIELDS);
      res.json({
        twin: await twins.replace(...target(req.params), replacement, actorOf(res), callOf(res)),
      });
    });
  }
  return routes.router;
}
