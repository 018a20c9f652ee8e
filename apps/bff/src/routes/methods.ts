import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  DeviceIdSchema,
  MethodInvokeRequestSchema,
  ModuleIdSchema,
  type MethodInvocationsResponse,
} from '@twinscope/contract';
import { actorOf } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { MethodService } from '../services/method-service.ts';

/** Direct methods on a device or a module: invoking is the Operator's; the list anyone's. */
export function methodRoutes(methods: MethodService): Router {
  const routes = policyRouter();
  for (const path of [
    '/devices/:deviceId/methods',
    '/devices/:deviceId/modules/:moduleId/methods',
  ]) {
    const target = (params: Record<string, unknown>) => ({
      deviceId: paramOf(params, 'deviceId', DeviceIdSchema),
      ...(params['moduleId'] === undefined
        ? {}
        : { moduleId: paramOf(params, 'moduleId', ModuleIdSchema) }),
    });
    routes.post(path, async (req, res) => {
      res.json(
        await methods.invoke(
          target(req.params),
          bodyOf(req.body, MethodInvokeRequestSchema),
          actorOf(res),
          callOf(res),
        ),
      );
    });
    routes.get(path, async (req, res) => {
      const body: MethodInvocationsResponse = {
        invocations: await methods.recent(target(req.params)),
      };
      res.json(body);
    });
  }
  return routes.router;
}
