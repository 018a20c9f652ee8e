import { Router } from 'express';
import { DeviceIdSchema, ModuleIdSchema, type AuditHistoryResponse } from '@twinscope/contract';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { requireRole } from '../http/authorize.ts';
import { parseWith } from '../http/validate.ts';

export function auditRoutes(audit: AuditTrail): Router {
  const router = Router();
  // Whoever may see a twin may see who changed it.
  router.get('/devices/:deviceId/history', (req, res) => {
    const body: AuditHistoryResponse = {
      entries: audit.forTarget({ deviceId: parseWith(DeviceIdSchema, req.params['deviceId']) }),
    };
    res.json(body);
  });
  router.get('/devices/:deviceId/modules/:moduleId/history', (req, res) => {
    const body: AuditHistoryResponse = {
      entries: audit.forTarget({
        deviceId: parseWith(DeviceIdSchema, req.params['deviceId']),
        moduleId: parseWith(ModuleIdSchema, req.params['moduleId']),
      }),
    };
    res.json(body);
  });
  // The whole trail as JSON lines, for a SIEM or a spreadsheet.
  router.get('/audit/export', requireRole('Admin'), (_req, res) => {
    res.set({
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="twinscope-audit-${new Date().toISOString().slice(0, 10)}.jsonl"`,
    });
    for (const entry of audit.all()) res.write(`${JSON.stringify(entry)}\n`);
    res.end();
  });
  return router;
}
