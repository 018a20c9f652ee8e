import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  RolloutListSchema,
  RolloutSchema,
  RolloutTargetPageSchema,
  type RolloutAction,
  type RolloutRequest,
} from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { rolloutKeys } from '../../../lib/query-keys.ts';

const OneSchema = z.object({ rollout: RolloutSchema });

/** The rollouts, newest first, a page at a time (refetched when the live stream says one changed). */
export function useRollouts() {
  return useInfiniteQuery({
    queryKey: rolloutKeys.list,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      apiRequest(apiPaths.rolloutsPage(pageParam), RolloutListSchema, { signal }),
    getNextPageParam: (page) => page.next,
  });
}

export function useRollout(id: string) {
  return useQuery({
    queryKey: rolloutKeys.one(id),
    queryFn: async ({ signal }) =>
      (await apiRequest(apiPaths.rollout(id), OneSchema, { signal })).rollout,
  });
}

/** A rollout's targets in one state, a page of 100 at a time. */
export function useRolloutTargets(id: string, state: string) {
  return useInfiniteQuery({
    queryKey: rolloutKeys.targets(id, state),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      apiRequest(
        apiPaths.rolloutTargets(id, state || undefined, pageParam),
        RolloutTargetPageSchema,
        {
          signal,
        },
      ),
    getNextPageParam: (page) => page.next,
  });
}

export function useStartRollout(onStarted: (id: string) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: RolloutRequest) =>
      (await apiRequest(apiPaths.rollouts, OneSchema, { method: 'POST', body: request })).rollout,
    onSuccess: (rollout) => {
      void queryClient.invalidateQueries({ queryKey: rolloutKeys.all });
      onStarted(rollout.id);
    },
  });
}

/** Approve, pause, resume, cancel or roll back; the page shows the rollout as it is after. */
export function useRolloutAction(id: string, onDone?: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (action: RolloutAction) =>
      (
        await apiRequest(apiPaths.rolloutAction(id, action), OneSchema, {
          method: 'POST',
          body: {},
        })
      ).rollout,
    onSuccess: (rollout) => {
      queryClient.setQueryData(rolloutKeys.one(id), rollout);
      void queryClient.invalidateQueries({ queryKey: rolloutKeys.all });
      onDone?.();
    },
  });
}
