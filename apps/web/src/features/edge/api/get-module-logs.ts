import { queryOptions, useQuery } from '@tanstack/react-query';
import {
  ModuleLogsResponseSchema,
  type ModuleLogsQuery,
  type ModuleLogsResponse,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { edgeKeys } from '../../../lib/query-keys.ts';

/** How often followed logs are read again. */
const FOLLOW_MS = 2000;

export function getModuleLogs(
  deviceId: string,
  module: string,
  query: ModuleLogsQuery,
  signal?: AbortSignal,
): Promise<ModuleLogsResponse> {
  return apiRequest(
    apiPaths.edgeLogs(deviceId, module, query),
    ModuleLogsResponseSchema,
    signal ? { signal } : {},
  );
}

export function getModuleLogsQueryOptions(
  deviceId: string,
  module: string,
  query: ModuleLogsQuery,
  follow: boolean,
) {
  return queryOptions({
    queryKey: edgeKeys.logs(deviceId, module, query),
    queryFn: ({ signal }) => getModuleLogs(deviceId, module, query, signal),
    refetchInterval: follow ? FOLLOW_MS : false,
    retry: false,
  });
}

/** A module's logs through the agent; following reads them again every two seconds. */
export function useModuleLogs(
  deviceId: string,
  module: string,
  query: ModuleLogsQuery,
  follow: boolean,
) {
  return useQuery(getModuleLogsQueryOptions(deviceId, module, query, follow));
}
