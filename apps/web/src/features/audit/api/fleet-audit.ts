import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { AuditHistoryResponseSchema, type AuditHistoryResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths, type AuditFilter } from '../../../lib/api-paths.ts';
import { auditKeys } from '../../../lib/query-keys.ts';

export function getFleetAudit(
  filter: AuditFilter,
  before: string | undefined,
  signal?: AbortSignal,
): Promise<AuditHistoryResponse> {
  return apiRequest(
    apiPaths.audit(filter, before),
    AuditHistoryResponseSchema,
    signal ? { signal } : {},
  );
}

export function getFleetAuditQueryOptions(filter: AuditFilter) {
  return infiniteQueryOptions({
    queryKey: auditKeys.fleet(filter),
    queryFn: ({ pageParam, signal }) => getFleetAudit(filter, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    staleTime: 5_000,
  });
}

/** What was done from Twinscope across the fleet (every replica), newest first. */
export function useFleetAudit(filter: AuditFilter) {
  return useInfiniteQuery(getFleetAuditQueryOptions(filter));
}
