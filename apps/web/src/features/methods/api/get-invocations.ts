import { queryOptions, useQuery } from '@tanstack/react-query';
import {
  MethodInvocationsResponseSchema,
  type MethodInvocationsResponse,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { methodKeys } from '../../../lib/query-keys.ts';

export function getInvocations(
  target: TwinRef,
  signal?: AbortSignal,
): Promise<MethodInvocationsResponse> {
  return apiRequest(
    apiPaths.methods(target),
    MethodInvocationsResponseSchema,
    signal ? { signal } : {},
  );
}

export function getInvocationsQueryOptions(target: TwinRef) {
  return queryOptions({
    queryKey: methodKeys.recent(target),
    queryFn: ({ signal }) => getInvocations(target, signal),
  });
}

/** The direct methods called on this target from Twinscope, newest first. */
export function useInvocations(target: TwinRef) {
  return useQuery(getInvocationsQueryOptions(target));
}
