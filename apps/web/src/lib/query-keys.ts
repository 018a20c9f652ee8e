import type { TwinRef } from '@twinscope/contract';
import type { AuditFilter, DeviceFilter } from './api-paths.ts';

/**
 * Every query key of the console. Several features read and write the same cached things
 * (a twin is edited in one, reverted in another, moved by live events), so the keys are
 * shared; each `api/` file's queryOptions factory takes its key from here.
 */
export const deviceKeys = {
  all: ['devices'] as const,
  lists: () => ['devices', 'list'] as const,
  list: (filter: DeviceFilter) => ['devices', 'list', filter] as const,
  /** The fleet's module twins a filter matches (the list in its module mode). */
  moduleList: (filter: DeviceFilter) => ['devices', 'module-list', filter] as const,
  details: () => ['devices', 'detail'] as const,
  detail: (deviceId: string) => ['devices', 'detail', deviceId] as const,
  modules: (deviceId: string) => ['devices', 'modules', deviceId] as const,
  moduleDetails: () => ['devices', 'module'] as const,
  module: (deviceId: string, moduleId: string) =>
    ['devices', 'module', deviceId, moduleId] as const,
};

export const historyKeys = {
  all: ['history'] as const,
  of: (ref: { deviceId: string; moduleId?: string | undefined }) =>
    ref.moduleId === undefined
      ? (['history', ref.deviceId] as const)
      : (['history', ref.deviceId, ref.moduleId] as const),
};

export const methodKeys = {
  recent: (ref: { deviceId: string; moduleId?: string | undefined }) =>
    ref.moduleId === undefined
      ? (['methods', ref.deviceId] as const)
      : (['methods', ref.deviceId, ref.moduleId] as const),
};

export const messageKeys = {
  recent: (deviceId: string) => ['messages', deviceId] as const,
};

/** The files a device uploaded through the hub's file upload. */
export const fileKeys = {
  list: (deviceId: string) => ['files', deviceId] as const,
};

/** A device's timeline read back from a time (what arrives next comes live). */
export const timelineKeys = {
  of: (deviceId: string, since: string, moduleId?: string, kinds?: readonly string[]) =>
    ['timeline', deviceId, since, moduleId ?? '', ...(kinds ?? [])] as const,
};

/** Every twin's versions (whoever changed it), and the twin at one of them. */
export const versionKeys = {
  list: (ref: { deviceId: string; moduleId?: string | undefined }) =>
    ['versions', ref.deviceId, ref.moduleId ?? ''] as const,
  at: (ref: { deviceId: string; moduleId?: string | undefined }, version: number) =>
    ['versions', ref.deviceId, ref.moduleId ?? '', version] as const,
};

/** Automatic configurations. */
export const configurationKeys = {
  all: ['configurations'] as const,
};

/**
 * The Device Provisioning Service: the overview, one enrollment (and under it its
 * registrations), and how one device was provisioned.
 */
export const provisioningKeys = {
  all: ['provisioning'] as const,
  overview: ['provisioning', 'overview'] as const,
  enrollment: (kind: 'group' | 'individual', id: string) => ['provisioning', kind, id] as const,
  registrations: (kind: 'group' | 'individual', id: string) =>
    ['provisioning', kind, id, 'registrations'] as const,
  device: (deviceId: string) => ['provisioning', 'device', deviceId] as const,
};

/** The hub's bulk identity jobs started from Twinscope, and one job as the hub reports it. */
export const fleetJobKeys = {
  all: ['fleet-jobs'] as const,
  list: ['fleet-jobs', 'list'] as const,
  one: (jobId: string) => ['fleet-jobs', 'job', jobId] as const,
};

/** Guarded rollouts, one rollout, and its targets in a state. */
export const rolloutKeys = {
  all: ['rollouts'] as const,
  list: ['rollouts', 'list'] as const,
  one: (id: string) => ['rollouts', id] as const,
  targets: (id: string, state: string) => ['rollouts', id, 'targets', state] as const,
};

/** The fleet's latest twin changes under a filter. */
export const activityKeys = {
  all: ['activity'] as const,
  list: (filter: object) => ['activity', filter] as const,
};

/** The fleet's audit trail under a filter. */
export const auditKeys = {
  all: ['audit'] as const,
  fleet: (filter: AuditFilter) => ['audit', filter] as const,
};

export const meKey = ['me'] as const;

export type { TwinRef };

export const edgeKeys = {
  overview: (deviceId: string) => ['edge', deviceId] as const,
  logs: (
    deviceId: string,
    module: string,
    query: { tail: number; filter?: string; since?: string },
  ) => ['edge', deviceId, 'logs', module, query] as const,
};

/** The overview (one shared look at the hub, read from the BFF's database). */
export const overviewKeys = {
  all: ['overview'] as const,
};

/** Plug and Play models, per device or module (the model id its twin holds). */
export const modelKeys = {
  of: (ref: { deviceId: string; moduleId?: string | undefined }, modelId: string) =>
    ['model', ref.deviceId, ref.moduleId ?? '', modelId] as const,
};

/** List views saved under a name (one's own and the team's). */
export const viewKeys = {
  all: ['views'] as const,
};
