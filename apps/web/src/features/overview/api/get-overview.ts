import { queryOptions, useQuery } from '@tanstack/react-query';
import { OverviewResponseSchema, type OverviewResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { overviewKeys } from '../../../lib/query-keys.ts';

/** How often a tab reads the overview again: the BFF answers from its database, not the hub. */
export const OVERVIEW_REFRESH_MS = 15_000;

export async function getOverview(signal?: AbortSignal): Promise<OverviewResponse> {
  return apiRequest(apiPaths.overview, OverviewResponseSchema, signal ? { signal } : {});
}

export function getOverviewQueryOptions() {
  return queryOptions({
    queryKey: overviewKeys.all,
    queryFn: ({ signal }) => getOverview(signal),
    // Until the first look is stored, sooner: the page waits for it.
    refetchInterval: (query) => (query.state.data?.snapshot ? OVERVIEW_REFRESH_MS : 2000),
  });
}

export function useOverview() {
  return useQuery(getOverviewQueryOptions());
}
