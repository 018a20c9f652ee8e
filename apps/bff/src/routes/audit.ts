import { Router, type Response } from 'express';
import {
  AuditHistoryQuerySchema,
  DeviceIdSchema,
  ModuleIdSchema,
  type AuditHistoryResponse,
} from '@twinscope/contract';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { requireRole } from '../http/authorize.ts';
import { parseWith } from '../http/validate.ts';

export function auditRoutes(audit: AuditTrail): Router {
  const router = Router();
  const page = (query: unknown, target: { deviceId: string; moduleId?: string }) => {
    const { limit, before } = parseWith(AuditHistoryQuerySchema, query);
    const { entries, next } = audit.forTarget(target, {
      limit,
      ...(before !== undefined ? { before: Number(before) } : {}),
    });
    const body: AuditHistoryResponse = {
      entries,
      ...(next !== undefined ? { next: String(next) } : {}),
    };
    return body;
  };
  // Whoever may see a twin may see who changed it, a page at a time.
  router.get('/devices/:deviceId/history', (req, res) => {
    res.json(page(req.query, { deviceId: parseWith(DeviceIdSchema, req.params['deviceId']) }));
  });
  router.get('/devices/:deviceId/modules/:moduleId/history', (req, res) => {
    res.json(
      page(req.query, {
        deviceId: parseWith(DeviceIdSchema, req.params['deviceId']),
        moduleId: parseWith(ModuleIdSchema, req.params['moduleId']),
      }),
    );
  });
  // The whole trail as JSON lines, for a SIEM or a spreadsheet, streamed from disk.
  router.get('/audit/export', requireRole('Admin'), async (_req, res) => {
    res.set({
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="twinscope-audit-${new Date().toISOString().slice(0, 10)}.jsonl"`,
    });
    for (const entry of audit.all()) {
      if (!res.write(`${JSON.stringify(entry)}\n`)) await drained(res);
      if (res.destroyed) return;
    }
    res.end();
  });
  return router;
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
