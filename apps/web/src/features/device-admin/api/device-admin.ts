import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  BulkDeviceResponseSchema,
  ConnectionStringResponseSchema,
  DeviceResponseSchema,
  type BulkDeviceRequest,
  type BulkDeviceResult,
  type DeviceCreateRequest,
  type DeviceDetail,
  type DeviceIdentity,
  type DeviceUpdateRequest,
} from '@twinscope/contract';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { deviceKeys, historyKeys } from '../../../lib/query-keys.ts';

export async function createDevice(request: DeviceCreateRequest): Promise<DeviceIdentity> {
  return (
    await apiRequest(apiPaths.devicesCreate, DeviceResponseSchema, {
      method: 'POST',
      body: request,
    })
  ).device;
}

export async function updateDevice(
  deviceId: string,
  request: DeviceUpdateRequest,
): Promise<DeviceIdentity> {
  return (
    await apiRequest(apiPaths.device(deviceId), DeviceResponseSchema, {
      method: 'PATCH',
      body: request,
    })
  ).device;
}

export async function deleteDevice(deviceId: string, etag: string): Promise<void> {
  await apiSend(apiPaths.deviceDelete(deviceId, etag), { method: 'DELETE' });
}

/** Never a query: the answer holds a key and must not sit in a cache. */
export async function revealDeviceConnectionString(deviceId: string): Promise<string> {
  return (
    await apiRequest(apiPaths.deviceConnectionString(deviceId), ConnectionStringResponseSchema, {
      method: 'POST',
    })
  ).connectionString;
}

export async function bulkDevices(request: BulkDeviceRequest): Promise<BulkDeviceResult[]> {
  return (
    await apiRequest(apiPaths.devicesBulk, BulkDeviceResponseSchema, {
      method: 'POST',
      body: request,
    })
  ).results;
}

/** Creates a device; the list (and its count) is read again. */
export function useCreateDevice(onCreated: (device: DeviceIdentity) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: createDevice,
    onSuccess: (device) => {
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      onCreated(device);
    },
  });
}

/** Enables, disables or rekeys a device; its page shows the hub's answer at once. */
export function useUpdateDevice(deviceId: string, onUpdated: (device: DeviceIdentity) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: DeviceUpdateRequest) => updateDevice(deviceId, request),
    onSuccess: (device) => {
      queryClient.setQueryData<DeviceDetail>(deviceKeys.detail(deviceId), (current) =>
        current ? { ...current, device } : current,
      );
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      void queryClient.invalidateQueries({ queryKey: historyKeys.of({ deviceId }) });
      onUpdated(device);
    },
  });
}

export function useDeleteDevice(deviceId: string, onDeleted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (etag: string) => deleteDevice(deviceId, etag),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      onDeleted();
    },
  });
}

export function useRevealDeviceConnectionString(deviceId: string) {
  return useMutation({ mutationFn: () => revealDeviceConnectionString(deviceId) });
}

/** A bulk action; the list and any open device page are read again. */
export function useBulkDevices(onDone: (results: BulkDeviceResult[]) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: bulkDevices,
    onSuccess: (results) => {
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      void queryClient.invalidateQueries({ queryKey: deviceKeys.details() });
      onDone(results);
    },
  });
}
