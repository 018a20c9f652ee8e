import { randomUUID } from 'node:crypto';
import { isJsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Operation, OperationContext } from '../http/operation.ts';
import type { Jobs } from '../jobs/jobs.ts';

function jobsOf(context: OperationContext): Jobs {
  if (!context.jobs) throw new HubError('ServiceUnavailable', 'Jobs are not running.');
  return context.jobs;
}

/** Import and export jobs the emulator accepted (they fail: it has no blob storage). */
const importExport = new Map<string, Record<string, string | boolean | number>>();

function importExportJob(jobId: string) {
  const job = importExport.get(jobId);
  if (!job) throw new HubError('JobNotFound', `Job ${jobId} not found.`);
  return job;
}

/**
 * IoT Hub jobs v2 (scheduled twin updates and direct methods) and the registry's
 * import/export jobs. Import/export needs Azure Storage, which the emulator does not reach:
 * those jobs are accepted and end `failed` with the reason, as the hub's do when it cannot
 * reach the container.
 */
export const jobOperations: Operation[] = [
  {
    name: 'query-jobs',
    method: 'GET',
    path: '/jobs/v2/query',
    rights: ['ServiceConnect', 'RegistryRead'],
    throttle: 'query',
    handle(context) {
      const sizeHeader = context.headers['x-ms-max-item-count'];
      const pageSize = typeof sizeHeader === 'string' ? Number(sizeHeader) : 100;
      if (!Number.isInteger(pageSize) || pageSize < 1)
        throw new HubError(
          'ArgumentInvalid',
          'x-ms-max-item-count must be a positive whole number.',
        );
      const continuation = context.headers['x-ms-continuation'];
      const page = jobsOf(context).query(
        {
          ...(context.query.get('jobType') ? { type: context.query.get('jobType')! } : {}),
          ...(context.query.get('jobStatus') ? { status: context.query.get('jobStatus')! } : {}),
        },
        Math.min(pageSize, 1000),
        typeof continuation === 'string' && continuation ? continuation : undefined,
      );
      return {
        status: 200,
        body: page.items,
        headers: {
          // .NET's JobClient parses it as QueryResultType's name (see query.ts).
          'x-ms-item-type': 'JobResponse',
          ...(page.continuation ? { 'x-ms-continuation': page.continuation } : {}),
        },
      };
    },
  },
  {
    name: 'create-job',
    method: 'PUT',
    path: '/jobs/v2/{jobId}',
    rights: ['ServiceConnect'],
    throttle: 'jobs',
    handle: (context) => ({
      status: 200,
      body: jobsOf(context).create(context.params['jobId']!, context.body),
    }),
  },
  {
    name: 'get-job',
    method: 'GET',
    path: '/jobs/v2/{jobId}',
    rights: ['ServiceConnect', 'RegistryRead'],
    throttle: 'jobs',
    handle: (context) => ({ status: 200, body: jobsOf(context).get(context.params['jobId']!) }),
  },
  {
    name: 'cancel-job',
    method: 'POST',
    path: '/jobs/v2/{jobId}/cancel',
    rights: ['ServiceConnect'],
    throttle: 'jobs',
    handle: (context) => ({ status: 200, body: jobsOf(context).cancel(context.params['jobId']!) }),
  },
  {
    name: 'create-import-export-job',
    method: 'POST',
    path: '/jobs/create',
    rights: ['RegistryWrite'],
    throttle: 'jobs',
    handle({ body }) {
      if (!isJsonObject(body) || (body['type'] !== 'import' && body['type'] !== 'export'))
        throw new HubError('ArgumentInvalid', "An import/export job's type is import or export.");
      const container =
        body['type'] === 'export' ? body['outputBlobContainerUri'] : body['inputBlobContainerUri'];
      if (typeof container !== 'string' || !container)
        throw new HubError(
          'ArgumentInvalid',
          `An ${body['type']} job needs ${body['type'] === 'export' ? 'outputBlobContainerUri' : 'inputBlobContainerUri'}.`,
        );
      const at = new Date().toISOString();
      const job = {
        jobId: randomUUID(),
        type: body['type'],
        status: 'failed',
        progress: 0,
        startTimeUtc: at,
        endTimeUtc: at,
        ...(typeof body['outputBlobContainerUri'] === 'string'
          ? { outputBlobContainerUri: body['outputBlobContainerUri'] }
          : {}),
        ...(typeof body['inputBlobContainerUri'] === 'string'
          ? { inputBlobContainerUri: body['inputBlobContainerUri'] }
          : {}),
        excludeKeysInExport: body['excludeKeysInExport'] === true,
        failureReason:
          'The storage account cannot be reached: the IoT Hub emulator has no Azure Storage, so import and export jobs fail.',
      };
      importExport.set(job.jobId, job);
      return { status: 200, body: job };
    },
  },
  {
    name: 'list-import-export-jobs',
    method: 'GET',
    path: '/jobs',
    rights: ['RegistryRead'],
    throttle: 'jobs',
    handle: () => ({ status: 200, body: [...importExport.values()] }),
  },
  {
    name: 'get-import-export-job',
    method: 'GET',
    path: '/jobs/{jobId}',
    rights: ['RegistryRead'],
    throttle: 'jobs',
    handle: ({ params }) => ({ status: 200, body: importExportJob(params['jobId']!) }),
  },
  {
    name: 'cancel-import-export-job',
    method: 'DELETE',
    path: '/jobs/{jobId}',
    rights: ['RegistryWrite'],
    throttle: 'jobs',
    handle: ({ params }) => ({ status: 200, body: importExportJob(params['jobId']!) }),
  },
];
