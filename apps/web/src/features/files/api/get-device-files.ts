import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { DeviceFilesResponseSchema, type DeviceFilesResponse } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { fileKeys } from '../../../lib/query-keys.ts';

export function getDeviceFiles(
  deviceId: string,
  continuation?: string,
  signal?: AbortSignal,
): Promise<DeviceFilesResponse> {
  return apiRequest(
    apiPaths.deviceFiles(deviceId, continuation),
    DeviceFilesResponseSchema,
    signal ? { signal } : {},
  );
}

export function getDeviceFilesQueryOptions(deviceId: string) {
  return infiniteQueryOptions({
    queryKey: fileKeys.list(deviceId),
    queryFn: ({ pageParam, signal }) => getDeviceFiles(deviceId, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    // The BFF already tried storage twice within its deadline; the section offers "Try again".
    retry: false,
  });
}

/** The files the device uploaded, in name order, a page at a time. */
export function useDeviceFiles(deviceId: string) {
  return useInfiniteQuery(getDeviceFilesQueryOptions(deviceId));
}
