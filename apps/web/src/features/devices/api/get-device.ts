import { queryOptions, useQuery } from '@tanstack/react-query';
import { DeviceDetailSchema, type DeviceDetail } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { deviceKeys } from '../../../lib/query-keys.ts';

export function getDevice(deviceId: string, signal?: AbortSignal): Promise<DeviceDetail> {
  return apiRequest(apiPaths.device(deviceId), DeviceDetailSchema, signal ? { signal } : {});
}

export function getDeviceQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: deviceKeys.detail(deviceId),
    queryFn: ({ signal }) => getDevice(deviceId, signal),
  });
}

export function useDevice(deviceId: string) {
  return useQuery(getDeviceQueryOptions(deviceId));
}
