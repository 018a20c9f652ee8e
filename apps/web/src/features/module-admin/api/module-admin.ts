import { useMutation } from '@tanstack/react-query';
import {
  ConnectionStringResponseSchema,
  ModuleResponseSchema,
  type ModuleCreateRequest,
  type ModuleIdentity,
  type ModuleUpdateRequest,
} from '@twinscope/contract';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';

const modulesPath = (deviceId: string) => `/api/devices/${encodeURIComponent(deviceId)}/modules`;
const modulePath = (deviceId: string, moduleId: string) =>
  `${modulesPath(deviceId)}/${encodeURIComponent(moduleId)}`;

export async function createModule(
  deviceId: string,
  request: ModuleCreateRequest,
): Promise<ModuleIdentity> {
  return (
    await apiRequest(modulesPath(deviceId), ModuleResponseSchema, { method: 'POST', body: request })
  ).module;
}

export async function updateModule(
  deviceId: string,
  moduleId: string,
  request: ModuleUpdateRequest,
): Promise<ModuleIdentity> {
  return (
    await apiRequest(modulePath(deviceId, moduleId), ModuleResponseSchema, {
      method: 'PATCH',
      body: request,
    })
  ).module;
}

export async function deleteModule(
  deviceId: string,
  moduleId: string,
  etag: string,
): Promise<void> {
  await apiSend(`${modulePath(deviceId, moduleId)}?etag=${encodeURIComponent(etag)}`, {
    method: 'DELETE',
  });
}

/** Never a query: the answer holds a key and must not sit in a cache. */
export async function revealConnectionString(deviceId: string, moduleId: string): Promise<string> {
  return (
    await apiRequest(
      `${modulePath(deviceId, moduleId)}/connection-string`,
      ConnectionStringResponseSchema,
      { method: 'POST' },
    )
  ).connectionString;
}

export function useCreateModule(deviceId: string, onCreated: (module: ModuleIdentity) => void) {
  return useMutation({
    mutationFn: (request: ModuleCreateRequest) => createModule(deviceId, request),
    onSuccess: onCreated,
  });
}

export function useUpdateModule(
  deviceId: string,
  moduleId: string,
  onUpdated: (module: ModuleIdentity) => void,
) {
  return useMutation({
    mutationFn: (request: ModuleUpdateRequest) => updateModule(deviceId, moduleId, request),
    onSuccess: onUpdated,
  });
}

export function useDeleteModule(deviceId: string, moduleId: string, onDeleted: () => void) {
  return useMutation({
    mutationFn: (etag: string) => deleteModule(deviceId, moduleId, etag),
    onSuccess: onDeleted,
  });
}

export function useRevealConnectionString(deviceId: string, moduleId: string) {
  return useMutation({ mutationFn: () => revealConnectionString(deviceId, moduleId) });
}
