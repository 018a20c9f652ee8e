import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import {
  AuditHistoryResponseSchema,
  type AuditHistoryResponse,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';

export const historyKey = (ref: { deviceId: string; moduleId?: string | undefined }) =>
  ref.moduleId === undefined
    ? (['history', ref.deviceId] as const)
    : (['history', ref.deviceId, ref.moduleId] as const);

const PAGE_SIZE = 20;

export function getHistory(
  ref: TwinRef,
  before: string | undefined,
  signal?: AbortSignal,
): Promise<AuditHistoryResponse> {
  const device = `/api/devices/${encodeURIComponent(ref.deviceId)}`;
  const path =
    ref.moduleId === undefined
      ? `${device}/history`
      : `${device}/modules/${encodeURIComponent(ref.moduleId)}/history`;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (before) params.set('before', before);
  return apiRequest(`${path}?${params}`, AuditHistoryResponseSchema, signal ? { signal } : {});
}

export function getHistoryQueryOptions(ref: TwinRef) {
  return infiniteQueryOptions({
    queryKey: historyKey(ref),
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
