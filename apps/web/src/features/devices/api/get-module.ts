import { queryOptions, useQuery } from '@tanstack/react-query';
import { ModuleDetailSchema, type ModuleDetail } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { deviceKeys } from '../../../lib/query-keys.ts';

export function getModule(
  deviceId: string,
  moduleId: string,
  signal?: AbortSignal,
): Promise<ModuleDetail> {
  return apiRequest(
    apiPaths.module(deviceId, moduleId),
    ModuleDetailSchema,
    signal ? { signal } : {},
  );
}

export function getModuleQueryOptions(deviceId: string, moduleId: string) {
  return queryOptions({
    queryKey: deviceKeys.module(deviceId, moduleId),
    queryFn: ({ signal }) => getModule(deviceId, moduleId, signal),
  });
}

export function useModule(deviceId: string, moduleId: string) {
  return useQuery(getModuleQueryOptions(deviceId, moduleId));
}
