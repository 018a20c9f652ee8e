import { useMutation } from '@tanstack/react-query';
import { apiFile } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { saveFile } from '../../../lib/download.ts';

/** Saves a completed export's file under the name the BFF gives it (409 while it runs). */
export async function downloadExport(jobId: string): Promise<void> {
  const { blob, name } = await apiFile(apiPaths.fleetJobDownload(jobId));
  saveFile(blob, name ?? `devices-${jobId}.jsonl`);
}

export function useDownloadExport() {
  return useMutation({ mutationFn: downloadExport });
}
