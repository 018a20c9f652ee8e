import type { DeviceFilter } from './get-devices.ts';

/** Every query key of the devices feature; fetching, invalidation and live updates use these. */
export const deviceKeys = {
  all: ['devices'] as const,
  lists: () => ['devices', 'list'] as const,
  list: (filter: DeviceFilter) => ['devices', 'list', filter] as const,
  details: () => ['devices', 'detail'] as const,
  detail: (deviceId: string) => ['devices', 'detail', deviceId] as const,
  modules: (deviceId: string) => ['devices', 'modules', deviceId] as const,
  moduleDetails: () => ['devices', 'module'] as const,
  module: (deviceId: string, moduleId: string) =>
    ['devices', 'module', deviceId, moduleId] as const,
};
