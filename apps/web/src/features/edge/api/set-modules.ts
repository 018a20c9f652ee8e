import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { SetModulesRequest } from '@twinscope/contract';
import { apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { edgeKeys } from '../../../lib/query-keys.ts';

export function setModules(deviceId: string, manifest: SetModulesRequest): Promise<void> {
  return apiSend(apiPaths.edgeModulesContent(deviceId), { method: 'PUT', body: manifest });
}

/** Sends a device's whole deployment manifest; the overview is read again, whatever came back. */
export function useSetModules(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (manifest: SetModulesRequest) => setModules(deviceId, manifest),
    onSettled: () => queryClient.invalidateQueries({ queryKey: edgeKeys.overview(deviceId) }),
  });
}
