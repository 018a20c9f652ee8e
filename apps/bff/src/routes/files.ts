import { pipeline } from 'node:stream/promises';
import type { Router } from 'express';
import {
  DeviceFileContentQuerySchema,
  DeviceFilesQuerySchema,
  DeviceIdSchema,
} from '@twinscope/contract';
import { attachment } from '../http/attachment.ts';
import { policyRouter } from '../http/policy-router.ts';
import { callOf } from '../http/request-context.ts';
import { paramOf, queryOf } from '../http/validate.ts';
import type { FileService } from '../services/file-service.ts';

/** What devices uploaded: listing is a read of the device; a file's contents, the Operator's. */
export function fileRoutes(files: FileService): Router {
  const routes = policyRouter();
  const deviceId = (params: Record<string, unknown>) => paramOf(params, 'deviceId', DeviceIdSchema);
  routes.get('/devices/:deviceId/files', async (req, res) => {
    res.json(
      await files.list(
        deviceId(req.params),
        queryOf(req.query, DeviceFilesQuerySchema),
        callOf(res),
      ),
    );
  });
  routes.get('/devices/:deviceId/files/content', async (req, res) => {
    const id = deviceId(req.params);
    const { name } = queryOf(req.query, DeviceFileContentQuerySchema);
    const file = await files.download(id, name, callOf(res));
    // Saved, never shown: whatever a device uploaded is not a page of this origin.
    res.setHeader('Content-Disposition', attachment(file.fileName));
    res.setHeader('Content-Type', file.contentType);
    res.setHeader('Content-Length', String(file.size));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    if (file.lastModified) res.setHeader('Last-Modified', file.lastModified.toUTCString());
    await pipeline(file.body, res);
  });
  return routes.router;
}
