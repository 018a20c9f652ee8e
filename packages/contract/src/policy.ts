import { hasRole, type Role } from './me.ts';

/**
 * Who may do what: Twinscope's one authorization policy. For every action, which role may
 * take it on each kind of target, and through which BFF routes. The BFF registers no route
 * without a rule here and checks it before the route runs; rollouts check the twin writes
 * and calls they would make against it; the console enables its buttons by it. No role
 * check is written anywhere else.
 */

/**
 * What an action is taken on. A module's kind comes from its id: `$edgeAgent` and
 * `$edgeHub` are IoT Edge's system modules, whose twins are the device's deployment.
 */
export type TargetKind = 'fleet' | 'device' | 'module' | 'edge-system-module';

/**
 * A role may; `only` names the action (a key of POLICY) that alone may change this target;
 * `never` says why no one may.
 */
export type Grant = Role | { only: string; why: string } | { never: string };

/** A route as the BFF registers it under /api: `METHOD /path/:param`. */
export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

export interface PolicyRule {
  /** The action in an operator's words, as a subject ("Changing a twin …"). */
  does: string;
  /** Who may, per kind of target the action reaches; a kind left out is not reachable. */
  on: Partial<Record<TargetKind, Grant>>;
  /** The routes that do it, with the kind of target each names; checked before the route runs. */
  routes: Partial<Record<RouteKey, TargetKind>>;
  /** Routes that reach this action only for some requests (checked once the body says so). */
  alsoVia?: readonly RouteKey[];
}

const EVERYONE = {
  fleet: 'Reader',
  device: 'Reader',
  module: 'Reader',
  'edge-system-module': 'Reader',
} as const;

const SYSTEM_MODULE_IDENTITY = {
  never:
    'IoT Edge creates its system modules with the device and its runtime keys them with the device’s own credential, so their identities, keys and connection strings are not managed here',
} as const;

export const POLICY = {
  read: {
    does: 'Seeing devices, modules, twins and what happened to them',
    on: EVERYONE,
    routes: {
      'GET /devices': 'fleet',
      'GET /modules': 'fleet',
      'GET /devices/:deviceId': 'device',
      'GET /devices/:deviceId/modules': 'device',
      'GET /devices/:deviceId/modules/:moduleId': 'module',
      'GET /devices/:deviceId/history': 'device',
      'GET /devices/:deviceId/modules/:moduleId/history': 'module',
      'GET /devices/:deviceId/versions': 'device',
      'GET /devices/:deviceId/versions/:version': 'device',
      'GET /devices/:deviceId/modules/:moduleId/versions': 'module',
      'GET /devices/:deviceId/modules/:moduleId/versions/:version': 'module',
      'GET /devices/:deviceId/timeline': 'device',
      'GET /devices/:deviceId/edge': 'device',
      // A Plug and Play device's or module's model (DTDL), from the model repository.
      'GET /devices/:deviceId/model': 'device',
      'GET /devices/:deviceId/modules/:moduleId/model': 'module',
      'GET /devices/:deviceId/methods': 'device',
      'GET /devices/:deviceId/modules/:moduleId/methods': 'module',
      'GET /devices/:deviceId/messages': 'device',
      // What a device uploaded: names, sizes and times, like the rest of its page.
      'GET /devices/:deviceId/files': 'device',
      'GET /activity': 'fleet',
      'GET /overview': 'fleet',
      'GET /configurations': 'fleet',
      'GET /configurations/:id': 'fleet',
      'POST /configurations/preview': 'fleet',
      'GET /rollouts': 'fleet',
      'GET /rollouts/:id': 'fleet',
      'GET /rollouts/:id/targets': 'fleet',
      'GET /events': 'fleet',
      'POST /events/:streamId/watch': 'fleet',
      'POST /events/:streamId/telemetry': 'fleet',
      // The provisioning service's enrollments and registrations (never their keys).
      'GET /provisioning': 'fleet',
      'GET /provisioning/groups/:id': 'fleet',
      'GET /provisioning/enrollments/:id': 'fleet',
      'GET /provisioning/groups/:id/registrations': 'fleet',
      'GET /provisioning/enrollments/:id/registrations': 'fleet',
      'GET /devices/:deviceId/provisioning': 'device',
    },
  },
  'audit.read': {
    does: "Reading the fleet's audit trail",
    on: { fleet: 'Operator' },
    routes: { 'GET /audit': 'fleet' },
    alsoVia: ['POST /events/:streamId/watch'],
  },
  'audit.export': {
    does: "Exporting the fleet's audit trail",
    on: { fleet: 'Admin' },
    routes: { 'GET /audit/export': 'fleet' },
  },
  'twin.write': {
    does: "Changing a twin's tags or desired properties",
    on: {
      device: 'Operator',
      module: 'Operator',
      'edge-system-module': {
        only: 'edge.set-modules',
        why: "$edgeAgent's and $edgeHub's twins are the device's IoT Edge deployment (which images run, with which options)",
      },
    },
    routes: {
      'PATCH /devices/:deviceId/twin': 'device',
      'PUT /devices/:deviceId/twin': 'device',
      'PATCH /devices/:deviceId/modules/:moduleId/twin': 'module',
      'PUT /devices/:deviceId/modules/:moduleId/twin': 'module',
    },
    alsoVia: ['POST /rollouts', 'POST /rollouts/dry-run'],
  },
  'method.invoke': {
    does: 'Calling a direct method',
    on: { device: 'Operator', module: 'Operator', 'edge-system-module': 'Operator' },
    routes: {
      'POST /devices/:deviceId/methods': 'device',
      'POST /devices/:deviceId/modules/:moduleId/methods': 'module',
    },
    alsoVia: ['POST /rollouts', 'POST /rollouts/dry-run'],
  },
  'message.send': {
    does: 'Sending a cloud-to-device message',
    on: { device: 'Operator' },
    routes: { 'POST /devices/:deviceId/messages': 'device' },
  },
  'message.purge': {
    does: "Purging a device's cloud-to-device queue",
    on: { device: 'Admin' },
    routes: { 'DELETE /devices/:deviceId/messages': 'device' },
  },
  'edge.restart-module': {
    does: 'Restarting an IoT Edge module',
    on: { device: 'Operator' },
    routes: { 'POST /devices/:deviceId/edge/modules/:module/restart': 'device' },
  },
  'edge.logs': {
    does: "Reading an IoT Edge module's logs",
    on: { device: 'Operator' },
    routes: { 'GET /devices/:deviceId/edge/modules/:module/logs': 'device' },
  },
  /**
   * Operator, not Reader: listing says what a device uploaded, but a file's contents are
   * whatever the device chose to send whole (diagnostics bundles, logs, crash dumps, camera
   * stills), which routinely hold more than its telemetry does (configuration, addresses,
   * people's images); reading an IoT Edge module's logs, the nearest read, is Operator's too.
   */
  'file.download': {
    does: 'Downloading a file a device uploaded',
    on: { device: 'Operator' },
    routes: { 'GET /devices/:deviceId/files/content': 'device' },
  },
  'edge.set-modules': {
    does: "Setting an IoT Edge device's modules",
    on: { device: 'Admin' },
    routes: { 'PUT /devices/:deviceId/edge/modules-content': 'device' },
  },
  'identity.create': {
    does: 'Creating a device or module identity',
    on: { device: 'Admin', module: 'Admin', 'edge-system-module': SYSTEM_MODULE_IDENTITY },
    routes: { 'POST /devices': 'device', 'POST /devices/:deviceId/modules': 'module' },
  },
  'identity.update': {
    does: "Changing a device's or module's identity",
    on: { device: 'Admin', module: 'Admin', 'edge-system-module': SYSTEM_MODULE_IDENTITY },
    routes: {
      'PATCH /devices/:deviceId': 'device',
      'PATCH /devices/:deviceId/modules/:moduleId': 'module',
    },
  },
  'identity.delete': {
    does: 'Deleting a device or module identity',
    on: { device: 'Admin', module: 'Admin', 'edge-system-module': SYSTEM_MODULE_IDENTITY },
    routes: {
      'DELETE /devices/:deviceId': 'device',
      'DELETE /devices/:deviceId/modules/:moduleId': 'module',
    },
  },
  'identity.bulk': {
    does: 'Enabling, disabling or deleting devices in bulk',
    on: { fleet: 'Admin' },
    routes: { 'POST /devices/bulk': 'fleet' },
  },
  'key.regenerate': {
    does: 'Regenerating a key',
    on: { device: 'Admin', module: 'Admin', 'edge-system-module': SYSTEM_MODULE_IDENTITY },
    routes: {},
    alsoVia: ['PATCH /devices/:deviceId', 'PATCH /devices/:deviceId/modules/:moduleId'],
  },
  'connection-string.reveal': {
    does: 'Revealing a connection string',
    on: { device: 'Admin', module: 'Admin', 'edge-system-module': SYSTEM_MODULE_IDENTITY },
    routes: {
      'POST /devices/:deviceId/connection-string': 'device',
      'POST /devices/:deviceId/modules/:moduleId/connection-string': 'module',
    },
  },
  'configuration.write': {
    does: 'Creating, changing or deleting an automatic configuration or IoT Edge deployment',
    on: { fleet: 'Admin' },
    routes: { 'PUT /configurations/:id': 'fleet', 'DELETE /configurations/:id': 'fleet' },
  },
  /**
   * Admin: an enrollment decides which devices may join the fleet at all, with what twin and
   * on which hub, for every device that ever presents its credential.
   */
  'provisioning.write': {
    does: 'Creating, changing or deleting a provisioning enrollment or registration',
    on: { fleet: 'Admin' },
    routes: {
      'PUT /provisioning/groups/:id': 'fleet',
      'PUT /provisioning/enrollments/:id': 'fleet',
      'DELETE /provisioning/groups/:id': 'fleet',
      'DELETE /provisioning/enrollments/:id': 'fleet',
      'DELETE /provisioning/registrations/:id': 'fleet',
    },
  },
  /**
   * Admin: an export can hold every device's keys, and an import creates, changes and
   * deletes identities in bulk.
   */
  'fleet.export': {
    does: "Exporting the fleet's identities (the hub's export job) and following bulk jobs",
    on: { fleet: 'Admin' },
    routes: {
      'POST /fleet/exports': 'fleet',
      'GET /fleet/jobs': 'fleet',
      'GET /fleet/jobs/:jobId': 'fleet',
      'GET /fleet/jobs/:jobId/download': 'fleet',
    },
  },
  'fleet.import': {
    does: "Importing identities into the hub (the hub's import job)",
    on: { fleet: 'Admin' },
    routes: { 'POST /fleet/imports/preview': 'fleet', 'POST /fleet/imports': 'fleet' },
  },
  /** List views saved under a name: one's own (a Reader's too) … */
  'view.save': {
    does: 'Saving device and module list views for oneself, and deleting them',
    on: { fleet: 'Reader' },
    routes: { 'GET /views': 'fleet', 'POST /views': 'fleet', 'DELETE /views/:id': 'fleet' },
  },
  /** … or the team's: shared (and their deletion) by Operators, audited. */
  'view.share': {
    does: 'Sharing list views with the team, and deleting shared ones',
    on: { fleet: 'Operator' },
    routes: {},
    alsoVia: ['POST /views', 'DELETE /views/:id'],
  },
  /** The team's overview: what it groups by and checks is shared, so it is audited. */
  'overview.configure': {
    does: 'Choosing what the overview shows (the tag it groups by, the desired keys it checks)',
    on: { fleet: 'Operator' },
    routes: { 'PUT /overview/settings': 'fleet' },
  },
  'rollout.preview': {
    does: 'Previewing a rollout',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts/dry-run': 'fleet' },
  },
  'rollout.start': {
    does: 'Starting a rollout',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts': 'fleet' },
  },
  'rollout.approve': {
    does: 'Approving a rollout past its canary',
    on: { fleet: 'Admin' },
    routes: { 'POST /rollouts/:id/approve': 'fleet' },
  },
  'rollout.pause': {
    does: 'Pausing a rollout',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts/:id/pause': 'fleet' },
  },
  'rollout.resume': {
    does: 'Resuming a rollout',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts/:id/resume': 'fleet' },
  },
  'rollout.cancel': {
    does: 'Cancelling a rollout',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts/:id/cancel': 'fleet' },
  },
  'rollout.rollback': {
    does: 'Rolling a rollout back',
    on: { fleet: 'Operator' },
    routes: { 'POST /rollouts/:id/rollback': 'fleet' },
  },
} as const satisfies Record<string, PolicyRule>;

export type PolicyAction = keyof typeof POLICY;

/**
 * The routes no role is needed for: whether the BFF is alive (anyone), and who the signed-in
 * user is, so one without a role learns why and what to ask for.
 */
export const OPEN_ROUTES: Partial<Record<RouteKey, string>> = {
  'GET /health': 'Liveness, answered without sign-in; it says nothing about the hub or users',
  'GET /healthz': "The platform's liveness probe (outside /api): the process serves",
  'GET /readyz':
    "The platform's readiness probe (outside /api): database, hub and change feed, and why not",
  'GET /me':
    'Who the signed-in user is, their roles and the CSRF token, or why they have no access',
};

/** IoT Hub reserves module ids that start with `$` for IoT Edge's system modules. */
export function isEdgeSystemModule(moduleId: string): boolean {
  return moduleId.startsWith('$');
}

/** The kind of a device's or a module's target. */
export function targetKindOf(moduleId: string | undefined): TargetKind {
  if (moduleId === undefined) return 'device';
  return isEdgeSystemModule(moduleId) ? 'edge-system-module' : 'module';
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const rule = (action: PolicyAction): PolicyRule => POLICY[action];

/** The one route and role that may do `action`, for a refusal that points there. */
function whereAllowed(action: string): string {
  const target = rule(action as PolicyAction);
  const [route] = Object.keys(target.routes);
  const role = Object.values(target.on).find((grant) => typeof grant === 'string');
  return `${target.does.charAt(0).toLowerCase()}${target.does.slice(1)}${route ? ` (${route.replace(' ', ' /api')})` : ''}${role ? `, which needs the ${role} role` : ''}`;
}

/** Whether someone with `roles` may take `action` on a target of `kind`, and if not, why. */
export function decide(roles: readonly Role[], action: PolicyAction, kind: TargetKind): Decision {
  const target = rule(action);
  const grant = target.on[kind];
  if (grant === undefined)
    return { allowed: false, reason: `${target.does} does not apply to this target.` };
  if (typeof grant === 'object') {
    if ('never' in grant)
      return { allowed: false, reason: `${target.does} is refused here: ${grant.never}.` };
    return {
      allowed: false,
      reason: `${target.does} is refused here: ${grant.why}, so they change only by ${whereAllowed(grant.only)}.`,
    };
  }
  if (hasRole(roles, grant)) return { allowed: true };
  return {
    allowed: false,
    reason: `${target.does} needs the ${grant} role; you have ${roles.join(', ') || 'no role'}.`,
  };
}

/** Every route under /api with the action it does and the kind of target it names. */
export function policyRoutes(): { route: RouteKey; action: PolicyAction; kind: TargetKind }[] {
  return (Object.keys(POLICY) as PolicyAction[]).flatMap((action) =>
    (Object.entries(rule(action).routes) as [RouteKey, TargetKind][]).map(([route, kind]) => ({
      route,
      action,
      kind,
    })),
  );
}
