import { Router } from 'express';
import type { MeResponse } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { Operator } from '../http/local-auth.ts';

export function meRoutes(hub: HubAdapter): Router {
  const router = Router();
  router.get('/me', (_req, res) => {
    const operator = res.locals['operator'] as Operator;
    const body: MeResponse = {
      user: operator,
      authMode: 'local',
      hub: { hostName: hub.hostName, emulator: hub.isEmulator },
      csrfToken: String(res.locals['csrfToken']),
    };
    res.json(body);
  });
  return router;
}
