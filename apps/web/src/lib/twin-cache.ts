import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type {
  ConnectionEvent,
  DeviceDetail,
  DeviceListResponse,
  ModuleDetail,
  ModuleListResponse,
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

/**
 * A device or module connected or disconnected: every cached place that shows its connection
 * state says so at once (the twin's version does not move for it).
 */
export function writeConnection(queryClient: QueryClient, event: ConnectionEvent): void {
  const moved = { connectionState: event.state, connectionStateUpdatedTime: event.at };
  if (event.moduleId === undefined) {
    queryClient.setQueryData<DeviceDetail>(deviceKeys.detail(event.deviceId), (current) =>
      current
        ? {
            device: { ...current.device, ...moved },
            twin: { ...current.twin, connectionState: event.state },
          }
        : current,
    );
    queryClient.setQueriesData<InfiniteData<DeviceListResponse>>(
      { queryKey: deviceKeys.lists() },
      (data) =>
        data && {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            items: page.items.map((item) =>
              item.deviceId === event.deviceId ? { ...item, connectionState: event.state } : item,
            ),
          })),
        },
    );
    return;
  }
  queryClient.setQueryData<ModuleDetail>(
    deviceKeys.module(event.deviceId, event.moduleId),
    (current) =>
      current
        ? {
            module: { ...current.module, ...moved },
            twin: { ...current.twin, connectionState: event.state },
          }
        : current,
  );
  queryClient.setQueryData<ModuleListResponse>(deviceKeys.modules(event.deviceId), (current) =>
    current
      ? {
          items: current.items.map((module) =>
            module.moduleId === event.moduleId ? { ...module, ...moved } : module,
          ),
        }
      : current,
  );
}
