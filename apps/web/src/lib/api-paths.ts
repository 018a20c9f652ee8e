import type { AuditFilter, EnrollmentKind, TwinRef } from '@twinscope/contract';
import { paramsOf, type SearchFilter } from './search-filter.ts';

export type { AuditFilter };

export const AUDIT_FILTER_KEYS = ['actor', 'deviceId', 'kind', 'from', 'to'] as const;

/** What the fleet's activity is filtered by (the search query without its paging). */
export const ACTIVITY_FILTER_KEYS = ['deviceId', 'moduleId', 'section', 'source', 'key'] as const;
export type ActivityFilter = SearchFilter<(typeof ACTIVITY_FILTER_KEYS)[number]>;

/** What the device list asks for: a page of devices matching a prefix, tags or a WHERE clause. */
export interface DeviceFilter {
  pageSize: number;
  prefix?: string;
  tags: string[];
  where?: string;
}

const auditParams = (filter: AuditFilter) => paramsOf(filter, AUDIT_FILTER_KEYS);

function listParams(filter: DeviceFilter, continuation?: string): URLSearchParams {
  const params = new URLSearchParams({ pageSize: String(filter.pageSize) });
  if (filter.prefix) params.set('prefix', filter.prefix);
  for (const tag of filter.tags) params.append('tag', tag);
  if (filter.where) params.set('where', filter.where);
  if (continuation) params.set('continuation', continuation);
  return params;
}

const segment = encodeURIComponent;
const device = (deviceId: string) => `/api/devices/${segment(deviceId)}`;
const module = (deviceId: string, moduleId: string) =>
  `${device(deviceId)}/modules/${segment(moduleId)}`;
/** A device's or a module's own path (twin, history …). */
const target = (ref: TwinRef) =>
  ref.moduleId === undefined ? device(ref.deviceId) : module(ref.deviceId, ref.moduleId);
const withQuery = (path: string, params: URLSearchParams) =>
  params.size > 0 ? `${path}?${params}` : path;
/** An enrollment group (`groups`) or an individual enrollment (`enrollments`) in DPS. */
const enrollment = (kind: EnrollmentKind, id: string) =>
  `/api/provisioning/${kind === 'group' ? 'groups' : 'enrollments'}/${segment(id)}`;
const etagQuery = (etag: string | undefined) => new URLSearchParams(etag ? { etag } : {});

/** Every BFF path the console calls, built in one place: ids are always encoded. */
export const apiPaths = {
  me: '/api/me',
  /** The fleet's trail, filtered, a page at a time. */
  audit(filter: AuditFilter, before?: string): string {
    const params = auditParams(filter);
    params.set('limit', '50');
    if (before) params.set('before', before);
    return withQuery('/api/audit', params);
  },
  /** The trail as JSON lines with the same filters (Admin). */
  auditExport: (filter: AuditFilter = {}) => withQuery('/api/audit/export', auditParams(filter)),
  /** The fleet's latest twin changes, filtered, a page at a time. */
  activity(filter: ActivityFilter, before?: string): string {
    const params = paramsOf(filter, ACTIVITY_FILTER_KEYS);
    params.set('limit', '50');
    if (before) params.set('before', before);
    return withQuery('/api/activity', params);
  },
  /** An IoT Edge device: modules, deployment state, parents and children, deployments. */
  edge: (deviceId: string) => `${device(deviceId)}/edge`,
  edgeRestart: (deviceId: string, module: string) =>
    `${device(deviceId)}/edge/modules/${segment(module)}/restart`,
  edgeLogs(
    deviceId: string,
    module: string,
    query: { tail: number; filter?: string; since?: string },
  ): string {
    const params = new URLSearchParams({ tail: String(query.tail) });
    if (query.filter) params.set('filter', query.filter);
    if (query.since) params.set('since', query.since);
    return withQuery(`${device(deviceId)}/edge/modules/${segment(module)}/logs`, params);
  },
  edgeModulesContent: (deviceId: string) => `${device(deviceId)}/edge/modules-content`,
  configurations: '/api/configurations',
  configuration: (id: string) => `/api/configurations/${segment(id)}`,
  configurationPreview: '/api/configurations/preview',
  /** The Device Provisioning Service: its id scope, enrollment groups and enrollments. */
  provisioning: '/api/provisioning',
  enrollment,
  enrollmentDelete: (kind: EnrollmentKind, id: string, etag: string) =>
    withQuery(enrollment(kind, id), etagQuery(etag)),
  enrollmentRegistrations: (kind: EnrollmentKind, id: string) =>
    `${enrollment(kind, id)}/registrations`,
  registrationDelete: (registrationId: string, etag?: string) =>
    withQuery(`/api/provisioning/registrations/${segment(registrationId)}`, etagQuery(etag)),
  /** The hub's bulk identity jobs started from Twinscope (Admin): the 20 latest, and one. */
  fleetJobs: '/api/fleet/jobs',
  fleetJob: (jobId: string) => `/api/fleet/jobs/${segment(jobId)}`,
  /** A completed export's file (JSON lines, an attachment). */
  fleetJobDownload: (jobId: string) => `/api/fleet/jobs/${segment(jobId)}/download`,
  fleetExports: '/api/fleet/exports',
  /** What an import file would do (the file is the raw body); nothing changes. */
  fleetImportPreview: '/api/fleet/imports/preview',
  fleetImports: '/api/fleet/imports',
  /** The overview: the last scheduled look at the hub, trends, and what the team chose to see. */
  overview: '/api/overview',
  overviewSettings: '/api/overview/settings',
  rolloutDryRun: '/api/rollouts/dry-run',
  rollouts: '/api/rollouts',
  /** A page of rollouts, newest first; `before` is the page before's `next`. */
  rolloutsPage: (before?: string) =>
    withQuery('/api/rollouts', new URLSearchParams(before ? { before } : {})),
  rollout: (id: string) => `/api/rollouts/${segment(id)}`,
  rolloutAction: (id: string, action: string) => `/api/rollouts/${segment(id)}/${segment(action)}`,
  /** A rollout's targets in one state (all when none), a page at a time. */
  rolloutTargets(id: string, state?: string, after?: string): string {
    const params = new URLSearchParams({ limit: '100' });
    if (state) params.set('state', state);
    if (after) params.set('after', after);
    return withQuery(`/api/rollouts/${segment(id)}/targets`, params);
  },
  events: '/api/events',
  watch: (streamId: string) => `/api/events/${segment(streamId)}/watch`,
  telemetryWatch: (streamId: string) => `/api/events/${segment(streamId)}/telemetry`,
  devices(filter: DeviceFilter, continuation?: string): string {
    return withQuery('/api/devices', listParams(filter, continuation));
  },
  /** The fleet's module twins (`FROM devices.modules`), filtered like the device list. */
  fleetModules(filter: DeviceFilter, continuation?: string): string {
    return withQuery('/api/modules', listParams(filter, continuation));
  },
  /** List views saved under a name: one's own and the team's. */
  views: '/api/views',
  view: (id: string) => `/api/views/${segment(id)}`,
  device,
  devicesCreate: '/api/devices',
  devicesBulk: '/api/devices/bulk',
  deviceDelete: (deviceId: string, etag: string) =>
    withQuery(device(deviceId), new URLSearchParams({ etag })),
  deviceConnectionString: (deviceId: string) => `${device(deviceId)}/connection-string`,
  /** How the device came to the hub: through which DPS enrollment, if any. */
  deviceProvisioning: (deviceId: string) => `${device(deviceId)}/provisioning`,
  modules: (deviceId: string) => `${device(deviceId)}/modules`,
  module,
  moduleDelete: (deviceId: string, moduleId: string, etag: string) =>
    withQuery(module(deviceId, moduleId), new URLSearchParams({ etag })),
  moduleConnectionString: (deviceId: string, moduleId: string) =>
    `${module(deviceId, moduleId)}/connection-string`,
  twin: (ref: TwinRef) => `${target(ref)}/twin`,
  methods: (ref: TwinRef) => `${target(ref)}/methods`,
  /** A Plug and Play device's or module's model, resolved and parsed by the BFF. */
  model: (ref: TwinRef) => `${target(ref)}/model`,
  messages: (deviceId: string) => `${device(deviceId)}/messages`,
  /** A page of the files the device uploaded; `continuation` is the page before's `next`. */
  deviceFiles(deviceId: string, continuation?: string): string {
    const params = new URLSearchParams({ limit: '100' });
    if (continuation) params.set('continuation', continuation);
    return withQuery(`${device(deviceId)}/files`, params);
  },
  /** One uploaded file, saved by the browser (a plain link: the BFF answers an attachment). */
  deviceFileContent: (deviceId: string, name: string) =>
    withQuery(`${device(deviceId)}/files/content`, new URLSearchParams({ name })),
  timeline(deviceId: string, query: { since: string; kinds?: string[]; moduleId?: string }) {
    const params = new URLSearchParams({ since: query.since });
    if (query.kinds?.length) params.set('kinds', query.kinds.join(','));
    if (query.moduleId !== undefined) params.set('moduleId', query.moduleId);
    return withQuery(`${device(deviceId)}/timeline`, params);
  },
  versions(ref: TwinRef, before?: string): string {
    const params = new URLSearchParams({ limit: '50' });
    if (before) params.set('before', before);
    return withQuery(`${target(ref)}/versions`, params);
  },
  version: (ref: TwinRef, version: number) => `${target(ref)}/versions/${version}`,
  history(ref: TwinRef, limit: number, before?: string): string {
    const params = new URLSearchParams({ limit: String(limit) });
    if (before) params.set('before', before);
    return withQuery(`${target(ref)}/history`, params);
  },
};
