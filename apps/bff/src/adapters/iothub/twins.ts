import type { Twin } from '@twinscope/contract';
import { isJsonObject, type JsonObject } from '@twinscope/twin';
import type { CallContext } from '../../core/call-context.ts';
import type { HubTwins, QueryPage } from '../hub-adapter.ts';
import { twinFromHub } from '../twin-mapping.ts';
import { checkIds } from './call.ts';
import { twinName } from './errors.ts';
import type { HubParts } from './parts.ts';

/** Twins through the Registry: read, patched with If-Match, and queried a page at a time. */
export function twinOperations({ calls, clients }: HubParts): HubTwins {
  const { registry } = clients;
  return {
    async query(
      sql: string,
      options: { pageSize?: number; continuation?: string },
      context?: CallContext,
    ): Promise<QueryPage> {
      return calls.call('The query', 'read', { query: 1 }, context, async (sdk) => {
        const query = registry.createQuery(sql, options.pageSize);
        // The SDK's promise form starts over unless it is handed the continuation token.
        const { result } = await sdk(() => query.next(options.continuation ?? ''));
        const continuation = query.hasMoreResults ? query.continuationToken : undefined;
        const items: JsonObject[] = Array.isArray(result) ? result.filter(isJsonObject) : [];
        return { items, ...(continuation ? { continuation } : {}) };
      });
    },

    async getTwin(deviceId: string, moduleId?: string, context?: CallContext): Promise<Twin> {
      checkIds(deviceId, moduleId);
      return calls.call(
        twinName(deviceId, moduleId),
        'read',
        { twinRead: 1 },
        context,
        async (sdk) =>
          twinFromHub(
            moduleId === undefined
              ? (await sdk(() => registry.getTwin(deviceId))).responseBody
              : (await sdk(() => registry.getModuleTwin(deviceId, moduleId))).responseBody,
          ),
      );
    },

    async patchTwin(
      deviceId: string,
      moduleId: string | undefined,
      patch: JsonObject,
      etag: string,
      context?: CallContext,
    ): Promise<Twin> {
      checkIds(deviceId, moduleId);
      return calls.call(
        twinName(deviceId, moduleId),
        'write',
        { twinUpdate: 1 },
        context,
        async (sdk) =>
          twinFromHub(
            moduleId === undefined
              ? (await sdk(() => registry.updateTwin(deviceId, patch, etag))).responseBody
              : (await sdk(() => registry.updateModuleTwin(deviceId, moduleId, patch, etag)))
                  .responseBody,
          ),
      );
    },
  };
}
