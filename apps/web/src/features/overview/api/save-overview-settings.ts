import { useMutation, useQueryClient } from '@tanstack/react-query';
import { StoredOverviewSettingsSchema, type OverviewSettings } from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { overviewKeys } from '../../../lib/query-keys.ts';

const SavedSchema = z.object({ settings: StoredOverviewSettingsSchema });

/** What the team's overview groups by and checks; the BFF takes a new look at once. */
export async function saveOverviewSettings(settings: OverviewSettings): Promise<OverviewSettings> {
  return (
    await apiRequest(apiPaths.overviewSettings, SavedSchema, { method: 'PUT', body: settings })
  ).settings;
}

export function useSaveOverviewSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveOverviewSettings,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: overviewKeys.all }),
  });
}
