import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { FleetJobSchema, type FleetJob } from '@twinscope/contract';
import { useEffect } from 'react';
import { z } from 'zod';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { fleetJobKeys } from '../../../lib/query-keys.ts';
import { hasEnded, POLL_MS, withJob } from '../job-model.ts';

/** How the BFF answers for one job: read, or just started. */
export const FleetJobResponseSchema = z.object({ job: FleetJobSchema });

/** A job as the hub reports it now; an ended import with each line's outcome. */
export async function getFleetJob(jobId: string, signal?: AbortSignal): Promise<FleetJob> {
  return (
    await apiRequest(apiPaths.fleetJob(jobId), FleetJobResponseSchema, signal ? { signal } : {})
  ).job;
}

export function getFleetJobQueryOptions(jobId: string) {
  return queryOptions({
    queryKey: fleetJobKeys.one(jobId),
    queryFn: ({ signal }) => getFleetJob(jobId, signal),
    // Asked again every second until the hub is done with it; an ended job does not move.
    refetchInterval: (query) => {
      const job = query.state.data;
      return job !== undefined && !hasEnded(job.status) ? POLL_MS : false;
    },
  });
}

/**
 * One job, followed while it runs; the recent jobs show each status it reaches. Nothing is
 * asked without a job id, or while `enabled` is false.
 */
export function useFleetJob(jobId: string | undefined, enabled: boolean) {
  const queryClient = useQueryClient();
  const query = useQuery({
    ...getFleetJobQueryOptions(jobId ?? ''),
    enabled: enabled && jobId !== undefined,
  });
  const job = query.data;
  useEffect(() => {
    if (job) queryClient.setQueryData<FleetJob[]>(fleetJobKeys.list, (list) => withJob(list, job));
  }, [job, queryClient]);
  return query;
}
