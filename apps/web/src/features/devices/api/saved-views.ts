import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  SavedViewListSchema,
  SavedViewSchema,
  type SavedView,
  type SaveViewRequest,
} from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { viewKeys } from '../../../lib/query-keys.ts';

/** One's own saved views and the team's. */
export function useSavedViews() {
  return useQuery({
    queryKey: viewKeys.all,
    queryFn: async ({ signal }) =>
      (await apiRequest(apiPaths.views, SavedViewListSchema, { signal })).items,
  });
}

export function useSaveView() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: SaveViewRequest): Promise<SavedView> =>
      (
        await apiRequest(apiPaths.views, z.object({ view: SavedViewSchema }), {
          method: 'POST',
          body: request,
        })
      ).view,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}

export function useDeleteView() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiSend(apiPaths.view(id), { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: viewKeys.all }),
  });
}
