import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type {
  DeviceDetail,
  DeviceListResponse,
  ModuleDetail,
  Twin,
  TwinChangedEvent,
} from '@twinscope/contract';
import { applyTwinEvent, applyTwinEventToList } from './apply-twin-event.ts';
import { deviceKeys } from './query-keys.ts';

/**
 * Puts a twin into every cached place that shows it (the device or module page, the device
 * list's row), unless what is cached is as new. Mutations that change a twin call it with
 * the hub's answer; the live stream calls it with each event.
 */
export function writeTwin(queryClient: QueryClient, event: TwinChangedEvent): void {
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
}

/** A twin this console saved, as the event the cache takes. */
export function savedTwinEvent(twin: Twin): TwinChangedEvent {
  return {
    type: 'twin',
    deviceId: twin.deviceId,
    ...(twin.moduleId ? { moduleId: twin.moduleId } : {}),
    version: twin.version,
    sections: [],
    twin,
    origin: 'console',
  };
}
