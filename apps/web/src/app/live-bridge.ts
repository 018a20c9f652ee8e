import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type {
  DeviceDetail,
  DeviceListResponse,
  LiveEvent,
  ModuleDetail,
} from '@twinscope/contract';
import { deviceKeys } from '../features/devices/api/keys.ts';
import { historyKey } from '../features/audit/api/history.ts';
import { applyTwinEvent, applyTwinEventToList } from '../features/live/apply-twin-event.ts';
import type { LiveClient } from '../features/live/live-client.ts';

/** Live events go straight into the query cache through the pure apply functions. */
export function bridgeLiveToCache(client: LiveClient, queryClient: QueryClient): () => void {
  // A stream that ended for good (session over, or refused on reconnect): ask who we are.
  const unsubscribe = client.subscribeSnapshot(() => {
    if (client.getSnapshot().state === 'closed')
      void queryClient.invalidateQueries({ queryKey: ['me'] });
  });
  const unlisten = client.onEvent((event: LiveEvent) => {
    switch (event.type) {
      case 'twin':
        void queryClient.invalidateQueries({
          queryKey: historyKey({ deviceId: event.deviceId, moduleId: event.moduleId }),
        });
        if (event.moduleId === undefined) {
          queryClient.setQueryData<DeviceDetail>(deviceKeys.detail(event.deviceId), (current) =>
            applyTwinEvent(current, event),
          );
          queryClient.setQueriesData<InfiniteData<DeviceListResponse>>(
            { queryKey: deviceKeys.lists() },
            (data) =>
              data
                ? { ...data, pages: data.pages.map((page) => applyTwinEventToList(page, event)) }
                : data,
          );
        } else {
          queryClient.setQueryData<ModuleDetail>(
            deviceKeys.module(event.deviceId, event.moduleId),
            (current) => applyTwinEvent(current, event),
          );
        }
        break;
      case 'identity':
        void queryClient.invalidateQueries({ queryKey: ['history'] });
        void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
        void queryClient.invalidateQueries({ queryKey: deviceKeys.modules(event.deviceId) });
        break;
      case 'hello':
        if (event.resync) void queryClient.invalidateQueries({ queryKey: deviceKeys.all });
        break;
      default:
        break;
    }
  });
  return () => {
    unsubscribe();
    unlisten();
  };
}
