import { pipeline } from 'node:stream/promises';
import express, { type Router } from 'express';
import { z } from 'zod';
import { ExportRequestSchema, IMPORT_MAX_BYTES } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { attachment } from '../http/attachment.ts';
import { actorOf } from '../http/authorize.ts';
import { policyRouter } from '../http/policy-router.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { FleetJobService } from '../services/fleet-job-service.ts';

const JobIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'A job id.');

/** An import file as it is: JSON lines (`application/x-ndjson`), up to 64 MB. */
const importFile = express.text({ type: 'application/x-ndjson', limit: IMPORT_MAX_BYTES });

function fileOf(body: unknown): string {
  if (typeof body !== 'string')
    throw new AppError(
      'unsupported_media_type',
      'Send the import file as application/x-ndjson (one device or module per line).',
    );
  return body;
}

/**
 * The hub's bulk identity jobs, for Admins: export (and download), import (previewed, then
 * run), and the jobs started from here with their progress and outcomes.
 */
export function fleetJobRoutes(jobs: FleetJobService): Router {
  const routes = policyRouter();
  routes.get('/fleet/jobs', async (_req, res) => {
    res.json({ items: await jobs.list() });
  });
  routes.get('/fleet/jobs/:jobId', async (req, res) => {
    res.json({ job: await jobs.get(paramOf(req.params, 'jobId', JobIdSchema), callOf(res)) });
  });
  routes.get('/fleet/jobs/:jobId/download', async (req, res) => {
    const file = await jobs.download(
      paramOf(req.params, 'jobId', JobIdSchema),
      actorOf(res),
      callOf(res),
    );
    // Saved, never shown; with keys when the export was asked for them.
    res.setHeader('Content-Disposition', attachment(file.name));
    res.setHeader('Content-Type', 'application/x-ndjson');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // A storage failure part way, or the browser going, ends every stream of the chain.
    if (file.transform) await pipeline(file.body, file.transform, res);
    else await pipeline(file.body, res);
  });
  routes.post('/fleet/exports', async (req, res) => {
    const request = bodyOf(req.body ?? {}, ExportRequestSchema);
    res.status(202).json({ job: await jobs.startExport(request, actorOf(res), callOf(res)) });
  });
  routes.post('/fleet/imports/preview', importFile, async (req, res) => {
    res.json(await jobs.preview(fileOf(req.body), callOf(res)));
  });
  routes.post('/fleet/imports', importFile, async (req, res) => {
    res
      .status(202)
      .json({ job: await jobs.startImport(fileOf(req.body), actorOf(res), callOf(res)) });
  });
  return routes.router;
}
