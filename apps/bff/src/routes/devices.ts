import { Router } from 'express';
import {
  DeviceIdSchema,
  DeviceListQuerySchema,
  ModuleIdSchema,
  TwinPatchRequestSchema,
  TwinReplaceRequestSchema,
} from '@twinscope/contract';
import { requireRole } from '../http/authorize.ts';
import { parseWith } from '../http/validate.ts';
import type { DeviceService } from '../services/device-service.ts';
import type { TwinService } from '../services/twin-service.ts';

export function deviceRoutes(devices: DeviceService, twins: TwinService): Router {
  const router = Router();
  const deviceId = (value: unknown) => parseWith(DeviceIdSchema, value);
  const moduleId = (value: unknown) => parseWith(ModuleIdSchema, value);

  router.get('/devices', async (req, res) => {
    res.json(await devices.list(parseWith(DeviceListQuerySchema, req.query)));
  });
  router.get('/devices/:deviceId', async (req, res) => {
    res.json(await devices.device(deviceId(req.params['deviceId'])));
  });
  router.get('/devices/:deviceId/modules', async (req, res) => {
    res.json(await devices.modules(deviceId(req.params['deviceId'])));
  });
  router.get('/devices/:deviceId/modules/:moduleId', async (req, res) => {
    res.json(
      await devices.module(deviceId(req.params['deviceId']), moduleId(req.params['moduleId'])),
    );
  });
  router.patch('/devices/:deviceId/twin', requireRole('Operator'), async (req, res) => {
    const patch = parseWith(TwinPatchRequestSchema, req.body);
    res.json({ twin: await twins.patch(deviceId(req.params['deviceId']), undefined, patch) });
  });
  router.put('/devices/:deviceId/twin', requireRole('Operator'), async (req, res) => {
    const replacement = parseWith(TwinReplaceRequestSchema, req.body);
    res.json({
      twin: await twins.replace(deviceId(req.params['deviceId']), undefined, replacement),
    });
  });
  router.patch(
    '/devices/:deviceId/modules/:moduleId/twin',
    requireRole('Operator'),
    async (req, res) => {
      const patch = parseWith(TwinPatchRequestSchema, req.body);
      res.json({
        twin: await twins.patch(
          deviceId(req.params['deviceId']),
          moduleId(req.params['moduleId']),
          patch,
        ),
      });
    },
  );
  router.put(
    '/devices/:deviceId/modules/:moduleId/twin',
    requireRole('Operator'),
    async (req, res) => {
      const replacement = parseWith(TwinReplaceRequestSchema, req.body);
      res.json({
        twin: await twins.replace(
          deviceId(req.params['deviceId']),
          moduleId(req.params['moduleId']),
          replacement,
        ),
      });
    },
  );
  return router;
}
