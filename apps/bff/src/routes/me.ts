import { Router } from 'express';
import type { MeResponse } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { noAccessReason, type RoleMap, type SignedInUser } from '../auth/roles.ts';
import type { Operator } from '../http/local-auth.ts';

/** Who the operator is, what they may do, and the token to send back on changes. */
export function meRoutes(hub: HubAdapter, roleMap: RoleMap | undefined): Router {
  const router = Router();
  router.get('/me', (_req, res) => {
    const operator = res.locals['operator'] as Operator;
    const user = res.locals['user'] as SignedInUser | undefined;
    const reason = user && roleMap ? noAccessReason(user, roleMap) : undefined;
    const body: MeResponse = {
      user: {
        id: operator.id,
        name: operator.name,
        roles: operator.roles,
        ...(user?.username ? { username: user.username } : {}),
      },
      authMode: roleMap ? 'entra' : 'local',
      hub: { hostName: hub.hostName, emulator: hub.isEmulator },
      csrfToken: String(res.locals['csrfToken']),
      ...(reason ? { noAccess: reason } : {}),
    };
    res.json(body);
  });
  return router;
}
