import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  EdgeOverviewSchema,
  ModuleLogsResponseSchema,
  type SetModulesRequest,
} from '@twinscope/contract';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { edgeKeys } from '../../../lib/query-keys.ts';

/** How often an Edge device's page reads the agent's report again. */
const EDGE_REFRESH_MS = 3000;

export function edgeOverviewQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: edgeKeys.overview(deviceId),
    queryFn: ({ signal }) => apiRequest(apiPaths.edge(deviceId), EdgeOverviewSchema, { signal }),
    refetchInterval: EDGE_REFRESH_MS,
  });
}

/** An IoT Edge device's modules and deployment, read again every few seconds. */
export function useEdgeOverview(deviceId: string) {
  return useQuery(edgeOverviewQueryOptions(deviceId));
}

/** A module's logs through the agent; following reads them again every two seconds. */
export function useModuleLogs(
  deviceId: string,
  module: string | undefined,
  query: { tail: number; filter?: string; since?: string },
  follow: boolean,
) {
  return useQuery({
    queryKey: edgeKeys.logs(deviceId, module ?? '', query),
    queryFn: ({ signal }) =>
      apiRequest(apiPaths.edgeLogs(deviceId, module!, query), ModuleLogsResponseSchema, {
        signal,
      }),
    enabled: module !== undefined,
    refetchInterval: follow ? 2000 : false,
    retry: false,
  });
}

export function useRestartModule(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (module: string) => apiSend(apiPaths.edgeRestart(deviceId, module)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: edgeKeys.overview(deviceId) }),
  });
}

export function useSetModules(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (manifest: SetModulesRequest) =>
      apiSend(apiPaths.edgeModulesContent(deviceId), { method: 'PUT', body: manifest }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: edgeKeys.overview(deviceId) }),
  });
}
