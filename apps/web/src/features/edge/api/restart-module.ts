import { useMutation, useQueryClient } from '@tanstack/react-query';
import { apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { edgeKeys } from '../../../lib/query-keys.ts';

export function restartModule(deviceId: string, module: string): Promise<void> {
  return apiSend(apiPaths.edgeRestart(deviceId, module));
}

/** Restarts a module through the Edge agent; the overview is read again, whatever came back. */
export function useRestartModule(deviceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (module: string) => restartModule(deviceId, module),
    onSettled: () => queryClient.invalidateQueries({ queryKey: edgeKeys.overview(deviceId) }),
  });
}
