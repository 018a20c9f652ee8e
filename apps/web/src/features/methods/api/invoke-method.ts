import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  MethodInvokeResponseSchema,
  type MethodInvokeRequest,
  type MethodInvokeResponse,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys, methodKeys } from '../../../lib/query-keys.ts';

export function invokeMethod(
  target: TwinRef,
  request: MethodInvokeRequest,
): Promise<MethodInvokeResponse> {
  return apiRequest(apiPaths.methods(target), MethodInvokeResponseSchema, {
    method: 'POST',
    body: request,
  });
}

/** Invokes a direct method; the recent calls (and the history) are read again, whatever came back. */
export function useInvokeMethod(target: TwinRef) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: MethodInvokeRequest) => invokeMethod(target, request),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: methodKeys.recent(target) });
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(target) });
    },
  });
}
