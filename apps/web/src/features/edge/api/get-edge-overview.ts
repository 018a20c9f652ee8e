import { queryOptions, useQuery } from '@tanstack/react-query';
import { EdgeOverviewSchema, type EdgeOverview } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { edgeKeys } from '../../../lib/query-keys.ts';

/** How often an Edge device's page reads the agent's report again. */
const EDGE_REFRESH_MS = 3000;

export function getEdgeOverview(deviceId: string, signal?: AbortSignal): Promise<EdgeOverview> {
  return apiRequest(apiPaths.edge(deviceId), EdgeOverviewSchema, signal ? { signal } : {});
}

export function getEdgeOverviewQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: edgeKeys.overview(deviceId),
    queryFn: ({ signal }) => getEdgeOverview(deviceId, signal),
    refetchInterval: EDGE_REFRESH_MS,
  });
}

/** An IoT Edge device's modules and deployment, read again every few seconds. */
export function useEdgeOverview(deviceId: string) {
  return useQuery(getEdgeOverviewQueryOptions(deviceId));
}
