import { useQuery } from '@tanstack/react-query';
import { AuditHistoryResponseSchema, type TwinRef } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';

export const historyKey = (ref: { deviceId: string; moduleId?: string | undefined }) =>
  ref.moduleId === undefined
    ? (['history', ref.deviceId] as const)
    : (['history', ref.deviceId, ref.moduleId] as const);

function historyPath(ref: TwinRef): string {
  const device = `/api/devices/${encodeURIComponent(ref.deviceId)}`;
  return ref.moduleId === undefined
    ? `${device}/history`
    : `${device}/modules/${encodeURIComponent(ref.moduleId)}/history`;
}

/** Who changed this twin (and, for a module, its identity), newest first. */
export function useHistory(ref: TwinRef) {
  return useQuery({
    queryKey: historyKey(ref),
    queryFn: () => apiRequest(historyPath(ref), AuditHistoryResponseSchema),
    staleTime: 5_000,
  });
}
