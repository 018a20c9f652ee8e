import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  TwinResponseSchema,
  type Twin,
  type TwinPatchRequest,
  type TwinRef,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys } from '../../../lib/query-keys.ts';
import { savedTwinEvent, writeTwin } from '../../../lib/twin-cache.ts';

export async function patchTwin(ref: TwinRef, request: TwinPatchRequest): Promise<Twin> {
  return (
    await apiRequest(apiPaths.twin(ref), TwinResponseSchema, { method: 'PATCH', body: request })
  ).twin;
}

/** Saves tags and desired properties; the saved twin goes into every cached view of it. */
export function usePatchTwin(ref: TwinRef, onSaved: (twin: Twin) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: TwinPatchRequest) => patchTwin(ref, request),
    onSuccess: (twin) => {
      writeTwin(queryClient, savedTwinEvent(twin));
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(ref) });
      onSaved(twin);
    },
  });
}
