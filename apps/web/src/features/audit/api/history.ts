import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import {
  AuditHistoryResponseSchema,
  type AuditHistoryResponse,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys } from '../../../lib/query-keys.ts';

const PAGE_SIZE = 20;

export function getHistory(
  ref: TwinRef,
  before: string | undefined,
  signal?: AbortSignal,
): Promise<AuditHistoryResponse> {
  return apiRequest(
    apiPaths.history(ref, PAGE_SIZE, before),
    AuditHistoryResponseSchema,
    signal ? { signal } : {},
  );
}

export function getHistoryQueryOptions(ref: TwinRef) {
  return infiniteQueryOptions({
    queryKey: historyKeys.of(ref),
    queryFn: ({ pageParam, signal }) => getHistory(ref, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    staleTime: 5_000,
  });
}

/** Who changed this twin (and, for a module, its identity), newest first, a page at a time. */
export function useHistory(ref: TwinRef) {
  return useInfiniteQuery(getHistoryQueryOptions(ref));
}
