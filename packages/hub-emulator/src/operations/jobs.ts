import { isJsonObject, jsonOf } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Operation, OperationContext } from '../http/operation.ts';
import type { ImportExportJobs } from '../jobs/import-export.ts';
import type { Jobs } from '../jobs/jobs.ts';

function jobsOf(context: OperationContext): Jobs {
  if (!context.jobs) throw new HubError('ServiceUnavailable', 'Jobs are not running.');
  return context.jobs;
}

function importExportOf(context: OperationContext): ImportExportJobs {
  if (!context.importExport)
    throw new HubError('ServiceUnavailable', 'Import and export jobs are not running.');
  return context.importExport;
}

/**
 * IoT Hub jobs v2 (scheduled twin updates and direct methods) and the registry's
 * import/export jobs (`jobs/import-export.ts`), which read and write the blob container the
 * operator names.
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
    handle(context) {
      if (!isJsonObject(context.body))
        throw new HubError('ArgumentInvalid', "An import/export job's type is import or export.");
      return { status: 200, body: jsonOf(importExportOf(context).create(context.body)) };
    },
  },
  {
    name: 'list-import-export-jobs',
    method: 'GET',
    path: '/jobs',
    rights: ['RegistryRead'],
    throttle: 'jobs',
    handle: (context) => ({ status: 200, body: jsonOf(importExportOf(context).list()) }),
  },
  {
    name: 'get-import-export-job',
    method: 'GET',
    path: '/jobs/{jobId}',
    rights: ['RegistryRead'],
    throttle: 'jobs',
    handle: (context) => ({
      status: 200,
      body: jsonOf(importExportOf(context).get(context.params['jobId']!)),
    }),
  },
  {
    name: 'cancel-import-export-job',
    method: 'DELETE',
    path: '/jobs/{jobId}',
    rights: ['RegistryWrite'],
    throttle: 'jobs',
    handle: (context) => ({
      status: 200,
      body: jsonOf(importExportOf(context).cancel(context.params['jobId']!)),
    }),
  },
];
