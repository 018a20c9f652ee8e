import { Router, type RequestHandler } from 'express';
import {
  OPEN_ROUTES,
  policyRoutes,
  targetKindOf,
  type PolicyAction,
  type RouteKey,
  type TargetKind,
} from '@twinscope/contract';
import { authorize } from '../core/authorize.ts';
import { rolesOf } from './authorize.ts';

const RULES = new Map(policyRoutes().map((rule) => [rule.route, rule]));
/** Every route registered so far in this process (the policy test holds the two lists together). */
const REGISTERED = new Set<RouteKey>();

export function registeredRoutes(): ReadonlySet<RouteKey> {
  return REGISTERED;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Register = (path: string, ...handlers: RequestHandler[]) => void;

/** An Express router whose every route is a row of the authorization policy. */
export interface PolicyRouter extends Record<Method, Register> {
  readonly router: Router;
}

/** Before the route runs: the policy's rule for it, on the kind of target it names. */
function guard(action: PolicyAction, kind: TargetKind): RequestHandler {
  return (req, res, next) => {
    const moduleId = req.params['moduleId'];
    authorize(
      rolesOf(res),
      action,
      kind === 'module' && typeof moduleId === 'string' ? targetKindOf(moduleId) : kind,
    );
    next();
  };
}

/**
 * Routes are registered here, never on a bare Router: a route the policy has no rule for
 * fails at start, and every request is checked against its rule before its handler runs.
 */
export function policyRouter(): PolicyRouter {
  const router = Router();
  const register =
    (method: Method): Register =>
    (path, ...handlers) => {
      const key = `${method.toUpperCase()} ${path}` as RouteKey;
      const rule = RULES.get(key);
      if (!rule && OPEN_ROUTES[key] === undefined)
        throw new Error(
          `${key} has no rule in the authorization policy (packages/contract/src/policy.ts); add one before registering the route.`,
        );
      REGISTERED.add(key);
      // The route as its pattern, for traces and metrics (never the ids in the URL).
      const named: RequestHandler = (req, res, next) => {
        res.locals['route'] = `${req.baseUrl}${path}`;
        next();
      };
      if (rule) router[method](path, named, guard(rule.action, rule.kind), ...handlers);
      else router[method](path, named, ...handlers);
    };
  return {
    router,
    get: register('get'),
    post: register('post'),
    put: register('put'),
    patch: register('patch'),
    delete: register('delete'),
  };
}
