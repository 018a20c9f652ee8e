import { objectOf } from '@twinscope/twin';
import type { CallContext } from '../../core/call-context.ts';
import type { HubBulkJob, HubBulkJobs } from '../hub-adapter.ts';
import type { HubParts } from './parts.ts';

/** The hub's job as the adapter answers it (its JSON, as the Registry reads it). */
function jobOf(body: unknown): HubBulkJob {
  const job = objectOf(body);
  const text = (key: string) => (typeof job[key] === 'string' ? (job[key] as string) : undefined);
  return {
    jobId: text('jobId') ?? '',
    status: text('status') ?? 'unknown',
    progress: typeof job['progress'] === 'number' ? job['progress'] : 0,
    ...(text('endTimeUtc') ? { endTimeUtc: text('endTimeUtc')! } : {}),
    ...(text('failureReason') ? { failureReason: text('failureReason')! } : {}),
  };
}

/** The hub's bulk identity jobs (export to and import from blob containers) through the Registry. */
export function bulkJobOperations({ calls, clients }: HubParts): HubBulkJobs {
  const { registry } = clients;
  return {
    async startExport(containerSasUri: string, excludeKeys: boolean, context?: CallContext) {
      return calls.call('The export job', 'write', { jobs: 1 }, context, async (sdk) =>
        jobOf(await sdk(() => registry.exportDevicesToBlob(containerSasUri, excludeKeys))),
      );
    },
    async startImport(inputSasUri: string, outputSasUri: string, context?: CallContext) {
      return calls.call('The import job', 'write', { jobs: 1 }, context, async (sdk) =>
        jobOf(await sdk(() => registry.importDevicesFromBlob(inputSasUri, outputSasUri))),
      );
    },
    async getBulkJob(jobId: string, context?: CallContext) {
      return calls.call(`Job ${jobId}`, 'read', { jobs: 1 }, context, async (sdk) =>
        jobOf(await sdk(() => registry.getJob(jobId))),
      );
    },
  };
}
