import {
  infiniteQueryOptions,
  queryOptions,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import {
  TwinAtVersionSchema,
  TwinResponseSchema,
  TwinVersionsResponseSchema,
  type Twin,
  type TwinRef,
} from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys, versionKeys } from '../../../lib/query-keys.ts';
import { savedTwinEvent, writeTwin } from '../../../lib/twin-cache.ts';

export function getVersionsQueryOptions(ref: TwinRef) {
  return infiniteQueryOptions({
    queryKey: versionKeys.list(ref),
    queryFn: ({ pageParam, signal }) =>
      apiRequest(apiPaths.versions(ref, pageParam), TwinVersionsResponseSchema, { signal }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    staleTime: 5_000,
  });
}

/** The twin's versions the history holds, newest first. */
export function useVersions(ref: TwinRef) {
  return useInfiniteQuery(getVersionsQueryOptions(ref));
}

export function getVersionQueryOptions(ref: TwinRef, version: number) {
  return queryOptions({
    queryKey: versionKeys.at(ref, version),
    queryFn: ({ signal }) =>
      apiRequest(apiPaths.version(ref, version), TwinAtVersionSchema, { signal }),
    // A version never changes once stored.
    staleTime: Infinity,
    retry: false,
  });
}

/** The twin as it was at a version (or why it cannot be rebuilt). */
export function useVersion(ref: TwinRef, version: number | undefined) {
  return useQuery({ ...getVersionQueryOptions(ref, version ?? 0), enabled: version !== undefined });
}

/** Sends the patch that takes the twin back to a version, with its current etag. */
export function useRestoreVersion(ref: TwinRef, onRestored: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (input: { etag: string; tags?: JsonObject; desired?: JsonObject }) =>
      (
        await apiRequest(apiPaths.twin(ref), TwinResponseSchema, {
          method: 'PATCH',
          body: input,
        })
      ).twin,
    onSuccess: (twin: Twin) => {
      writeTwin(queryClient, savedTwinEvent(twin));
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(ref) });
      void queryClient.invalidateQueries({ queryKey: versionKeys.list(ref) });
      onRestored();
    },
  });
}
