import { queryOptions, useQuery } from '@tanstack/react-query';
import { FleetJobListSchema, type FleetJob } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { fleetJobKeys } from '../../../lib/query-keys.ts';

/** The 20 latest bulk jobs started from Twinscope, each as the BFF last saw it. */
export async function getFleetJobs(signal?: AbortSignal): Promise<FleetJob[]> {
  return (await apiRequest(apiPaths.fleetJobs, FleetJobListSchema, signal ? { signal } : {})).items;
}

export function getFleetJobsQueryOptions() {
  return queryOptions({
    queryKey: fleetJobKeys.list,
    queryFn: ({ signal }) => getFleetJobs(signal),
  });
}

/**
 * The recent jobs (Admin only: nothing is asked while `enabled` is false); read again now and
 * then for jobs other Admins start.
 */
export function useFleetJobs(enabled: boolean) {
  return useQuery({ ...getFleetJobsQueryOptions(), enabled, refetchInterval: 15_000 });
}
