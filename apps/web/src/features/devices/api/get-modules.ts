import { queryOptions, useQuery } from '@tanstack/react-query';
import { ModuleListResponseSchema, type ModuleListResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { deviceKeys } from '../../../lib/query-keys.ts';

export function getModules(deviceId: string, signal?: AbortSignal): Promise<ModuleListResponse> {
  return apiRequest(apiPaths.modules(deviceId), ModuleListResponseSchema, signal ? { signal } : {});
}

export function getModulesQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: deviceKeys.modules(deviceId),
    queryFn: ({ signal }) => getModules(deviceId, signal),
  });
}

export function useModules(deviceId: string) {
  return useQuery(getModulesQueryOptions(deviceId));
}
