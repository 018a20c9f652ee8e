import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import { alive } from './probes.ts';
import type { MeResponse } from '@twinscope/contract';
import { noAccessReason, type RoleMap, type SignedInUser } from '../core/roles.ts';
import type { Operator } from '../http/local-auth.ts';

/** Who the operator is, what they may do, and the token to send back on changes. */
export function meRoutes(
  hub: { hostName: string; isEmulator: boolean },
  roleMap: RoleMap | undefined,
): Router {
  const routes = policyRouter();
  routes.get('/me', (_req, res) => {
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
  return routes.router;
}

/** Liveness only (`/healthz`'s answer under /api): without sign-in, so nothing about the hub or users. */
export function healthRoutes(): Router {
  const routes = policyRouter();
  routes.get('/health', alive);
  return routes.router;
}
