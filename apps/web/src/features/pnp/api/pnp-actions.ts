import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  MethodInvokeResponseSchema,
  TwinResponseSchema,
  type MethodInvokeResponse,
  type Twin,
  type TwinRef,
} from '@twinscope/contract';
import type { JsonObject, JsonValue } from '@twinscope/twin';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys, methodKeys } from '../../../lib/query-keys.ts';
import { savedTwinEvent, writeTwin } from '../../../lib/twin-cache.ts';

/** Sends a writable property's desired patch with the twin's etag (a conflict never overwrites). */
export function useSetWritable(target: TwinRef) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async ({ etag, desired }: { etag: string; desired: JsonObject }): Promise<Twin> =>
      (
        await apiRequest(apiPaths.twin(target), TwinResponseSchema, {
          method: 'PATCH',
          body: { etag, desired },
        })
      ).twin,
    onSuccess: (twin) => {
      writeTwin(queryClient, savedTwinEvent(twin));
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(target) });
    },
  });
}

/** Invokes a command as a direct method (`component*command`), with the request as its payload. */
export function useRunCommand(target: TwinRef) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({
      methodName,
      payload,
    }: {
      methodName: string;
      payload: JsonValue;
    }): Promise<MethodInvokeResponse> =>
      apiRequest(apiPaths.methods(target), MethodInvokeResponseSchema, {
        method: 'POST',
        body: { methodName, payload, responseTimeoutInSeconds: 30 },
      }),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: methodKeys.recent(target) });
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(target) });
    },
  });
}
