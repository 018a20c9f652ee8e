import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ExportRequest, FleetJob } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { fleetJobKeys } from '../../../lib/query-keys.ts';
import { withJob } from '../job-model.ts';
import { FleetJobResponseSchema } from './get-fleet-job.ts';

/** Starts the hub's export of the fleet, or of the devices a condition selects (400 when the hub refuses it). */
export async function startExport(request: ExportRequest): Promise<FleetJob> {
  return (
    await apiRequest(apiPaths.fleetExports, FleetJobResponseSchema, {
      method: 'POST',
      body: request,
    })
  ).job;
}

/** Starts an export; the job is followed at once and joins the recent jobs. */
export function useStartExport(onStarted: (job: FleetJob) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: startExport,
    onSuccess: (job) => {
      queryClient.setQueryData(fleetJobKeys.one(job.jobId), job);
      queryClient.setQueryData<FleetJob[]>(fleetJobKeys.list, (list) => withJob(list, job));
      onStarted(job);
    },
  });
}
