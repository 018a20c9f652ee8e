import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { DeviceListResponseSchema, type DeviceListResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { deviceKeys } from './keys.ts';

export interface DeviceFilter {
  pageSize: number;
  prefix?: string;
  tags: string[];
  where?: string;
}

export function getDevices(
  filter: DeviceFilter,
  continuation?: string,
  signal?: AbortSignal,
): Promise<DeviceListResponse> {
  const params = new URLSearchParams({ pageSize: String(filter.pageSize) });
  if (filter.prefix) params.set('prefix', filter.prefix);
  for (const tag of filter.tags) params.append('tag', tag);
  if (filter.where) params.set('where', filter.where);
  if (continuation) params.set('continuation', continuation);
  return apiRequest(`/api/devices?${params}`, DeviceListResponseSchema, signal ? { signal } : {});
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
