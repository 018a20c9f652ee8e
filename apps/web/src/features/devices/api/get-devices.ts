import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { DeviceListResponseSchema, type DeviceListResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths, type DeviceFilter } from '../../../lib/api-paths.ts';
import { deviceKeys } from '../../../lib/query-keys.ts';

export function getDevices(
  filter: DeviceFilter,
  continuation?: string,
  signal?: AbortSignal,
): Promise<DeviceListResponse> {
  return apiRequest(
    apiPaths.devices(filter, continuation),
    DeviceListResponseSchema,
    signal ? { signal } : {},
  );
}

export function getDevicesQueryOptions(filter: DeviceFilter) {
  return infiniteQueryOptions({
    queryKey: deviceKeys.list(filter),
    queryFn: ({ pageParam, signal }) => getDevices(filter, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.continuation,
  });
}

export function useDevices(filter: DeviceFilter) {
  return useInfiniteQuery(getDevicesQueryOptions(filter));
}
