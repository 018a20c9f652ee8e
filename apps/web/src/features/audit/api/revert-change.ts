import { useMutation, useQueryClient } from '@tanstack/react-query';
import { TwinResponseSchema, type AuditEntry, type Twin, type TwinRef } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { historyKeys } from '../../../lib/query-keys.ts';
import { savedTwinEvent, writeTwin } from '../../../lib/twin-cache.ts';

/** The inverse patch of a recorded change, sent with the twin's current etag. */
export async function revertChange(ref: TwinRef, entry: AuditEntry, etag: string): Promise<Twin> {
  const tags = entry.revert?.tags;
  const desired = entry.revert?.desired;
  return (
    await apiRequest(apiPaths.twin(ref), TwinResponseSchema, {
      method: 'PATCH',
      body: {
        etag,
        ...(tags && Object.keys(tags).length ? { tags } : {}),
        ...(desired && Object.keys(desired).length ? { desired } : {}),
        revertOf: entry.id,
      },
    })
  ).twin;
}

/** Reverts a change; the twin it leaves goes into the cache and the history is read again. */
export function useRevertChange(ref: TwinRef, onReverted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ entry, etag }: { entry: AuditEntry; etag: string }) =>
      revertChange(ref, entry, etag),
    onSuccess: (twin) => {
      writeTwin(queryClient, savedTwinEvent(twin));
      void queryClient.invalidateQueries({ queryKey: historyKeys.of(ref) });
      onReverted();
    },
  });
}
