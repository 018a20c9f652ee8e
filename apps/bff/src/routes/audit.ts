import type { Response, Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  AuditHistoryQuerySchema,
  AuditSearchQuerySchema,
  DeviceIdSchema,
  ModuleIdSchema,
  type AuditHistoryResponse,
} from '@twinscope/contract';
import type { AuditFilter } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { paramOf, queryOf } from '../http/validate.ts';

export function auditRoutes(audit: AuditTrail): Router {
  const routes = policyRouter();
  const page = async (query: unknown, target: { deviceId: string; moduleId?: string }) => {
    const { limit, before } = queryOf(query, AuditHistoryQuerySchema);
    const { entries, next } = await audit.forTarget(target, {
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
  routes.get('/devices/:deviceId/history', async (req, res) => {
    res.json(await page(req.query, { deviceId: paramOf(req.params, 'deviceId', DeviceIdSchema) }));
  });
  routes.get('/devices/:deviceId/modules/:moduleId/history', async (req, res) => {
    res.json(
      await page(req.query, {
        deviceId: paramOf(req.params, 'deviceId', DeviceIdSchema),
        moduleId: paramOf(req.params, 'moduleId', ModuleIdSchema),
      }),
    );
  });
  // The fleet's trail (every replica's), newest first, filtered: Operators and Admins.
  routes.get('/audit', async (req, res) => {
    const { limit, before, ...filter } = queryOf(req.query, AuditSearchQuerySchema);
    const { entries, next } = await audit.search(filterOf(filter), {
      limit,
      ...(before !== undefined ? { before: Number(before) } : {}),
    });
    const body: AuditHistoryResponse = {
      entries,
      ...(next !== undefined ? { next: String(next) } : {}),
    };
    res.json(body);
  });
  // The trail as JSON lines with the same filters, for a SIEM or a spreadsheet, streamed.
  routes.get('/audit/export', async (req, res) => {
    const {
      limit: _limit,
      before: _before,
      ...filter
    } = queryOf(req.query, AuditSearchQuerySchema);
    res.set({
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="twinscope-audit-${new Date().toISOString().slice(0, 10)}.jsonl"`,
    });
    for await (const entry of audit.all(filterOf(filter))) {
      if (!res.write(`${JSON.stringify(entry)}\n`)) await drained(res);
      if (res.destroyed) return;
    }
    res.end();
  });
  return routes.router;
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

/** The query's filter with times as the database compares them. */
function filterOf(query: {
  actor?: string | undefined;
  deviceId?: string | undefined;
  kind?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}): AuditFilter {
  return {
    ...(query.actor ? { actor: query.actor } : {}),
    ...(query.deviceId ? { deviceId: query.deviceId } : {}),
    ...(query.kind ? { kind: query.kind } : {}),
    ...(query.from ? { from: new Date(query.from).toISOString() } : {}),
    ...(query.to ? { to: new Date(query.to).toISOString() } : {}),
  };
}
