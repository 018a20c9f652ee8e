import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { FleetJob } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { fleetJobKeys } from '../../../lib/query-keys.ts';
import { withJob } from '../job-model.ts';
import { FleetJobResponseSchema } from './get-fleet-job.ts';
import { importFile } from './preview-import.ts';

/** Runs an import: the BFF previews the file again, keeps what it expects, and starts the hub's job. */
export async function startImport(text: string): Promise<FleetJob> {
  return (
    await apiRequest(apiPaths.fleetImports, FleetJobResponseSchema, {
      method: 'POST',
      file: importFile(text),
    })
  ).job;
}

/** Runs an import; the job is followed at once and joins the recent jobs. */
export function useStartImport(onStarted: (job: FleetJob) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: startImport,
    onSuccess: (job) => {
      queryClient.setQueryData(fleetJobKeys.one(job.jobId), job);
      queryClient.setQueryData<FleetJob[]>(fleetJobKeys.list, (list) => withJob(list, job));
      onStarted(job);
    },
  });
}
