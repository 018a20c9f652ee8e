import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ConfigurationListSchema,
  ConfigurationPreviewSchema,
  ConfigurationSchema,
  type ConfigurationInput,
} from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { configurationKeys } from '../../../lib/query-keys.ts';

/** Every automatic configuration with its metrics (the hub recomputes them as twins change). */
export function useConfigurations() {
  return useQuery({
    queryKey: configurationKeys.all,
    queryFn: ({ signal }) =>
      apiRequest(apiPaths.configurations, ConfigurationListSchema, { signal }),
    refetchInterval: 15_000,
  });
}

/** Creates or (with its etag) changes a configuration. */
export function useSaveConfiguration(onSaved: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: ConfigurationInput) =>
      apiRequest(
        apiPaths.configuration(input.id),
        z.object({ configuration: ConfigurationSchema }),
        { method: 'PUT', body: input },
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: configurationKeys.all });
      onSaved();
    },
  });
}

export function useDeleteConfiguration(onDeleted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiSend(apiPaths.configuration(id), { method: 'DELETE' }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: configurationKeys.all });
      onDeleted();
    },
  });
}

/** What a target condition selects now: a count and a sample. */
export function usePreview() {
  return useMutation({
    mutationFn: (input: { kind: 'device' | 'module'; targetCondition: string }) =>
      apiRequest(apiPaths.configurationPreview, ConfigurationPreviewSchema, {
        method: 'POST',
        body: input,
      }),
  });
}
