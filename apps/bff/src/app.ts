import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { HubAdapter } from './adapters/hub-adapter.ts';
import { AppError } from './core/app-error.ts';
import { errorHandler, notFound } from './http/error-handler.ts';
import type { SecurityEvents } from './http/security-events.ts';
import { localOperator } from './http/local-auth.ts';
import { csrfCheck } from './http/authorize.ts';
import { crossSiteCheck, hostCheck } from './http/origin-guard.ts';
import { identifyCaller, requestContext } from './http/request-context.ts';
import type { Role } from '@twinscope/contract';
import { jsonNestingBeyond, jsonNestingMessage } from '@twinscope/twin';
import { sessionOperator } from './http/sessions.ts';
import type { RoleMap } from './core/roles.ts';
import type { Sessions } from './http/sessions.ts';
import type { AuditTrail } from './audit/audit-trail.ts';
import { auditRoutes } from './routes/audit.ts';
import type { EventBroker } from './live/broker.ts';
import type { Logger } from './log.ts';
import { startRequest, tagRequest } from './telemetry/instruments.ts';
import { deviceRoutes } from './routes/devices.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes, meRoutes } from './routes/me.ts';
import { probeRoutes } from './routes/probes.ts';
import type { Readiness } from './core/readiness.ts';
import type { DeviceService } from './services/device-service.ts';
import type { TwinService } from './services/twin-service.ts';
import type { ModuleService } from './services/module-service.ts';
import { moduleRoutes } from './routes/modules.ts';
import { deviceAdminRoutes } from './routes/device-admin.ts';
import { methodRoutes } from './routes/methods.ts';
import { edgeRoutes } from './routes/edge.ts';
import { messageRoutes } from './routes/messages.ts';
import type { MessageService } from './services/message-service.ts';
import { timelineRoutes } from './routes/timeline.ts';
import { fileRoutes } from './routes/files.ts';
import type { FileService } from './services/file-service.ts';
import { versionRoutes } from './routes/versions.ts';
import type { TwinHistory } from './history/twin-history.ts';
import type { ConfigurationService } from './services/configuration-service.ts';
import { configurationRoutes } from './routes/configurations.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { provisioningRoutes } from './routes/provisioning.ts';
import { fleetJobRoutes } from './routes/fleet-jobs.ts';
import { overviewRoutes } from './routes/overview.ts';
import { modelRoutes } from './routes/models.ts';
import { viewRoutes } from './routes/views.ts';
import type { ViewService } from './services/view-service.ts';
import type { ModelService } from './services/model-service.ts';
import type { Overview } from './overview/overview.ts';
import type { FleetJobService } from './services/fleet-job-service.ts';
import type { ProvisioningService } from './services/provisioning-service.ts';
import type { RolloutService } from './rollouts/rollout-service.ts';
import type { HubBudget } from './quota/hub-budget.ts';
import type { TimelineService } from './services/timeline-service.ts';
import type { MethodService } from './services/method-service.ts';
import type { EdgeService } from './services/edge-service.ts';
import type { DeviceAdminService } from './services/device-admin-service.ts';

export interface AppDeps {
  hub: HubAdapter;
  devices: DeviceService;
  twins: TwinService;
  modules: ModuleService;
  deviceAdmin: DeviceAdminService;
  methods: MethodService;
  edge: EdgeService;
  messages: MessageService;
  timeline: TimelineService;
  /** What devices uploaded through the hub's file upload. */
  files: FileService;
  configurations: ConfigurationService;
  /** The Device Provisioning Service's enrollments and registrations. */
  provisioning: ProvisioningService;
  /** The hub's bulk export and import jobs. */
  fleetJobs: FleetJobService;
  overview: Overview;
  models: ModelService;
  views: ViewService;
  rollouts: RolloutService;
  /** What the BFF may spend of the hub's throttles (rollouts estimate with it). */
  budget: HubBudget;
  /** Every twin's history, when changes come from an event endpoint. */
  history?: TwinHistory;
  broker: EventBroker;
  logger: Logger;
  /** Refused requests, logged and counted. */
  security: SecurityEvents;
  /** One local operator (loopback only), or Entra sign-in with sessions. */
  auth:
    | {
        mode: 'local';
        role: Role;
        csrfToken: string;
        /** The Host names a browser may use: loopback with the listening port, and configured ones. */
        allowedHosts: () => ReadonlySet<string>;
      }
    | { mode: 'entra'; sessions: Sessions; routes: Router; roleMap: RoleMap };
  audit: AuditTrail;
  trustProxy?: string | number | boolean;
  /** Where browsers reach Twinscope, when configured: https turns on HSTS. */
  publicUrl?: string;
  /** The built console to serve, so the product is one origin. */
  staticDir?: string;
  /** What `/readyz` checks. */
  readiness: Readiness;
}

/** Each request gets an id (told to the browser, in every log line) and a server span. */
const requestId: RequestHandler = (req, res, next) => {
  const id = randomUUID();
  res.locals['requestId'] = id;
  res.set('X-Request-Id', id);
  const done = startRequest(req.method, req.headers, () => {
    tagRequest(id);
    next();
  });
  res.once('close', () =>
    done({ route: res.locals['route'] as string | undefined, status: res.statusCode }),
  );
};

/**
 * State-changing requests carry JSON or nothing; a form post never reaches a handler. An
 * import file is the one exception: JSON lines, to the import routes only.
 */
const jsonOnly: RequestHandler = (req, _res, next) => {
  const hasBody =
    Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  const importFile =
    req.method === 'POST' &&
    /^\/fleet\/imports(\/preview)?$/.test(req.path) &&
    req.is('application/x-ndjson');
  if (
    ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method) &&
    hasBody &&
    !req.is('application/json') &&
    !importFile
  ) {
    next(new AppError('unsupported_media_type', 'Send request bodies as application/json.'));
    return;
  }
  next();
};

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  app.use(requestId);
  app.use(probeRoutes(deps.readiness));
  // Before anything is served: a rebinding page must not even load the console.
  if (deps.auth.mode === 'local') app.use(hostCheck(deps.auth.allowedHosts));
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          // Monaco injects <style> elements and style attributes and has no nonce hook.
          'style-src': ["'self'", "'unsafe-inline'"],
          // Monaco's workers are bundled same-origin files.
          'worker-src': ["'self'"],
          'connect-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'font-src': ["'self'", 'data:'],
          'object-src': ["'none'"],
          'base-uri': ["'self'"],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'upgrade-insecure-requests': null,
        },
      },
      // Browsers only honour HSTS over https, and only a public https URL promises it.
      strictTransportSecurity: publicOrigin?.startsWith('https:')
        ? { maxAge: 365 * 24 * 3600, includeSubDomains: false }
        : false,
      // The same rule as the CSP's frame-ancestors 'none', for browsers that only read this.
      xFrameOptions: { action: 'deny' },
    }),
  );
  app.use(crossSiteCheck(publicOrigin));

  const api = express.Router();
  api.use(requestContext);
  api.use((_req, res, next) => {
    // API answers may one day hold connection strings: never let the browser keep them.
    res.set('Cache-Control', 'no-store');
    next();
  });
  api.use(healthRoutes());
  if (deps.auth.mode === 'local') {
    api.use(localOperator(deps.auth.role, deps.auth.csrfToken));
  } else {
    api.use(deps.auth.sessions.middleware, sessionOperator(deps.auth.sessions));
  }
  api.use(identifyCaller);
  api.use(csrfCheck);
  api.use(jsonOnly);
  api.use(
    express.json({
      limit: '256kb',
      strict: false,
      // Parsing, validation and merging recurse: a body nested past the limit is refused unread.
      verify: (_req, _res, body) => {
        const deep = jsonNestingBeyond(body);
        if (deep) throw new AppError('bad_request', jsonNestingMessage(deep.position));
      },
    }),
  );
  // Who am I answers any signed-in user, so one without a role learns why.
  api.use(meRoutes(deps.hub, deps.auth.mode === 'entra' ? deps.auth.roleMap : undefined));
  // Every route below is a row of the authorization policy, checked before it runs.
  api.use(deviceAdminRoutes(deps.deviceAdmin));
  api.use(deviceRoutes(deps.devices, deps.twins));
  api.use(moduleRoutes(deps.modules));
  api.use(methodRoutes(deps.methods));
  api.use(edgeRoutes(deps.edge));
  api.use(messageRoutes(deps.messages));
  api.use(timelineRoutes(deps.timeline));
  api.use(fileRoutes(deps.files));
  api.use(versionRoutes(deps.history));
  api.use(configurationRoutes(deps.configurations));
  api.use(rolloutRoutes(deps.rollouts));
  api.use(provisioningRoutes(deps.provisioning));
  api.use(fleetJobRoutes(deps.fleetJobs));
  api.use(overviewRoutes(deps.overview));
  api.use(modelRoutes(deps.models));
  api.use(viewRoutes(deps.views));
  api.use(
    eventRoutes(
      deps.broker,
      deps.auth.mode === 'entra' ? deps.auth.sessions : undefined,
      deps.devices,
    ),
  );
  api.use(auditRoutes(deps.audit));
  api.use(notFound);
  app.use('/api', api);
  if (deps.auth.mode === 'entra') app.use(deps.auth.sessions.middleware, deps.auth.routes);

  if (deps.staticDir && existsSync(join(deps.staticDir, 'index.html'))) {
    const root = resolve(deps.staticDir);
    app.use(
      '/assets',
      express.static(join(root, 'assets'), { immutable: true, maxAge: '365d', fallthrough: false }),
    );
    app.use(express.static(root, { index: false, maxAge: 0 }));
    // Deep links (/devices/x/modules/y) load the console, which routes on the client.
    app.get(/^(?!\/api\/).*/, (_req, res) => {
      res.set('Cache-Control', 'no-cache');
      res.sendFile(join(root, 'index.html'));
    });
  }
  app.use(errorHandler(deps.logger, deps.security));
  return app;
}
