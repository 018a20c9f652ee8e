import { queryOptions, useQuery } from '@tanstack/react-query';
import { DeviceProvisioningSchema, type DeviceProvisioning } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

export function getDeviceProvisioning(
  deviceId: string,
  signal?: AbortSignal,
): Promise<DeviceProvisioning> {
  return apiRequest(
    apiPaths.deviceProvisioning(deviceId),
    DeviceProvisioningSchema,
    signal ? { signal } : {},
  );
}

export function getDeviceProvisioningQueryOptions(deviceId: string) {
  return queryOptions({
    queryKey: provisioningKeys.device(deviceId),
    queryFn: ({ signal }) => getDeviceProvisioning(deviceId, signal),
    // How a device was provisioned changes rarely: one DPS call per page visit, not per focus.
    staleTime: 5 * 60_000,
  });
}

/** Through which enrollment a device was provisioned, if any, and its registration record. */
export function useDeviceProvisioning(deviceId: string) {
  return useQuery(getDeviceProvisioningQueryOptions(deviceId));
}
