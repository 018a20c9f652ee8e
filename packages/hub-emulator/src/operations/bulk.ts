import { isJsonObject, jsonOf } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { Operation } from '../http/operation.ts';
import { applyImportItem } from '../store/import-item.ts';

interface BulkError {
  deviceId: string;
  moduleId?: string;
  errorCode: string;
  errorStatus: string;
  operation?: string;
}

export const bulkOperations: Operation[] = [
  {
    name: 'bulk-registry',
    method: 'POST',
    path: '/devices',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    handle({ registry, body }) {
      if (!Array.isArray(body) || body.length < 1 || body.length > 100) {
        throw new HubError('ArgumentInvalid', 'A bulk request takes an array of 1 to 100 devices.');
      }
      const errors: BulkError[] = [];
      registry.batch(() => {
        for (const item of body) {
          const deviceId = isJsonObject(item) && typeof item['id'] === 'string' ? item['id'] : '';
          const moduleId =
            isJsonObject(item) && typeof item['moduleId'] === 'string'
              ? item['moduleId']
              : undefined;
          const mode =
            isJsonObject(item) && typeof item['importMode'] === 'string'
              ? item['importMode'].toLowerCase()
              : '';
          try {
            if (!isJsonObject(item) || !deviceId)
              throw new HubError('ArgumentInvalid', 'Each item needs an id.');
            applyImportItem(registry, item, deviceId, moduleId, mode);
          } catch (error) {
            if (!(error instanceof HubError)) throw error;
            errors.push({
              deviceId,
              ...(moduleId !== undefined ? { moduleId } : {}),
              errorCode: error.code,
              errorStatus: error.message,
              ...(mode ? { operation: mode } : {}),
            });
          }
        }
      });
      const result = {
        isSuccessful: errors.length === 0,
        errors: jsonOf(errors),
        warnings: [],
      };
      return { status: errors.length === 0 ? 200 : 400, body: result };
    },
  },
];
