import { Router } from 'express';
import {
  BulkDeviceRequestSchema,
  DeviceCreateRequestSchema,
  DeviceIdSchema,
  DeviceUpdateRequestSchema,
  type BulkDeviceResponse,
  type ConnectionStringResponse,
} from '@twinscope/contract';
import { actorOf, requireRole } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { parseWith } from '../http/validate.ts';
import type { DeviceAdminService } from '../services/device-admin-service.ts';

/** Device identities: every route is Admin's. */
export function deviceAdminRoutes(admin: DeviceAdminService): Router {
  const router = Router();
  const onlyAdmin = requireRole('Admin');
  const deviceId = (value: unknown) => parseWith(DeviceIdSchema, value);

  router.post('/devices', onlyAdmin, async (req, res) => {
    const device = await admin.create(
      parseWith(DeviceCreateRequestSchema, req.body),
      actorOf(res),
      callOf(res),
    );
    res.status(201).json({ device });
  });
  // Before /devices/:deviceId, which would take "bulk" for an id.
  router.post('/devices/bulk', onlyAdmin, async (req, res) => {
    const body: BulkDeviceResponse = {
      results: await admin.bulk(
        parseWith(BulkDeviceRequestSchema, req.body),
        actorOf(res),
        callOf(res),
      ),
    };
    res.json(body);
  });
  router.patch('/devices/:deviceId', onlyAdmin, async (req, res) => {
    res.json({
      device: await admin.update(
        deviceId(req.params['deviceId']),
        parseWith(DeviceUpdateRequestSchema, req.body),
        actorOf(res),
        callOf(res),
      ),
    });
  });
  router.delete('/devices/:deviceId', onlyAdmin, async (req, res) => {
    const etag =
      req.get('if-match')?.replace(/^W\//, '').replace(/^"|"$/g, '') ??
      (typeof req.query['etag'] === 'string' ? req.query['etag'] : undefined);
    await admin.delete(deviceId(req.params['deviceId']), etag, actorOf(res), callOf(res));
    res.status(204).end();
  });
  // A POST, so revealing a key is always an explicit act and never a cacheable GET.
  router.post('/devices/:deviceId/connection-string', onlyAdmin, async (req, res) => {
    const body: ConnectionStringResponse = {
      connectionString: await admin.connectionString(
        deviceId(req.params['deviceId']),
        actorOf(res),
        callOf(res),
      ),
    };
    res.json(body);
  });
  return router;
}
