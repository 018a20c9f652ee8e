import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { FleetActivityResponseSchema } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths, type ActivityFilter } from '../../../lib/api-paths.ts';
import { activityKeys } from '../../../lib/query-keys.ts';

export function getFleetActivityQueryOptions(filter: ActivityFilter) {
  return infiniteQueryOptions({
    queryKey: activityKeys.list(filter),
    queryFn: ({ pageParam, signal }) =>
      apiRequest(apiPaths.activity(filter, pageParam), FleetActivityResponseSchema, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    staleTime: 5_000,
  });
}

/** The fleet's latest twin changes, whoever made them, newest first. */
export function useFleetActivity(filter: ActivityFilter) {
  return useInfiniteQuery(getFleetActivityQueryOptions(filter));
}
