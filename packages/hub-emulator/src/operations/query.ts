import { isJsonObject, jsonOf, objectOf } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Operation } from '../http/operation.ts';
import { runQuery } from '../query/engine.ts';

/**
 * `x-ms-item-type` as .NET's RegistryManager reads it: `Enum.Parse(QueryResultType, value)`,
 * case-sensitive, so only the enum's names (`Twin`, `DeviceJob`, `Raw`) parse
 * (QueryResult.cs 32-43); Node, Java and Python pass the value through unread.
 */
export const ITEM_TYPE = { twin: 'Twin', deviceJob: 'DeviceJob', raw: 'Raw' } as const;

export const queryOperations: Operation[] = [
  {
    name: 'query-twins',
    method: 'POST',
    path: '/devices/query',
    rights: ['ServiceConnect', 'RegistryRead'],
    throttle: 'query',
    handle({ registry, body, headers, jobs }) {
      if (!isJsonObject(body) || typeof body['query'] !== 'string') {
        throw new HubError('ArgumentInvalid', 'The body must be {"query": "<SELECT …>"}.');
      }
      const sizeHeader = headers['x-ms-max-item-count'];
      let pageSize: number | undefined;
      if (typeof sizeHeader === 'string') {
        pageSize = Number(sizeHeader);
        if (!Number.isInteger(pageSize) || pageSize < 1) {
          throw new HubError(
            'ArgumentInvalid',
            'x-ms-max-item-count must be a positive whole number.',
          );
        }
      }
      const continuation = headers['x-ms-continuation'];
      const page = runQuery(registry, body['query'], {
        ...(jobs
          ? { deviceJobs: () => jobs.deviceJobs().map((job) => objectOf(jsonOf(job))) }
          : {}),
        ...(pageSize !== undefined ? { pageSize } : {}),
        ...(typeof continuation === 'string' && continuation ? { continuation } : {}),
      });
      const responseHeaders: Record<string, string> = {
        'x-ms-item-type': ITEM_TYPE[page.itemType],
      };
      if (page.continuation) responseHeaders['x-ms-continuation'] = page.continuation;
      return { status: 200, body: page.items, headers: responseHeaders };
    },
  },
];
