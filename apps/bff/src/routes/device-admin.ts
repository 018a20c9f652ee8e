import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  BulkDeviceRequestSchema,
  DeviceCreateRequestSchema,
  DeviceIdSchema,
  DeviceUpdateRequestSchema,
  type BulkDeviceResponse,
  type ConnectionStringResponse,
} from '@twinscope/contract';
import { actorOf, authorizeRequest } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { DeviceAdminService } from '../services/device-admin-service.ts';

/** Device identities: creating, changing, deleting, bulk actions and revealing keys. */
export function deviceAdminRoutes(admin: DeviceAdminService): Router {
  const routes = policyRouter();
  const deviceId = (params: Record<string, unknown>) => paramOf(params, 'deviceId', DeviceIdSchema);

  routes.post('/devices', async (req, res) => {
    const device = await admin.create(
      bodyOf(req.body, DeviceCreateRequestSchema),
      actorOf(res),
      callOf(res),
    );
    res.status(201).json({ device });
  });
  // Before /devices/:deviceId, which would take "bulk" for an id.
  routes.post('/devices/bulk', async (req, res) => {
    const body: BulkDeviceResponse = {
      results: await admin.bulk(
        bodyOf(req.body, BulkDeviceRequestSchema),
        actorOf(res),
        callOf(res),
      ),
    };
    res.json(body);
  });
  routes.patch('/devices/:deviceId', async (req, res) => {
    const change = bodyOf(req.body, DeviceUpdateRequestSchema);
    if (change.regenerateKey) authorizeRequest(res, 'key.regenerate', 'device');
    res.json({
      device: await admin.update(deviceId(req.params), change, actorOf(res), callOf(res)),
    });
  });
  routes.delete('/devices/:deviceId', async (req, res) => {
    const etag =
      req.get('if-match')?.replace(/^W\//, '').replace(/^"|"$/g, '') ??
      (typeof req.query['etag'] === 'string' ? req.query['etag'] : undefined);
    await admin.delete(deviceId(req.params), etag, actorOf(res), callOf(res));
    res.status(204).end();
  });
  // A POST, so revealing a key is always an explicit act and never a cacheable GET.
  routes.post('/devices/:deviceId/connection-string', async (req, res) => {
    const body: ConnectionStringResponse = {
      connectionString: await admin.connectionString(
        deviceId(req.params),
        actorOf(res),
        callOf(res),
      ),
    };
    res.json(body);
  });
  return routes.router;
}
