import { useMutation, useQueryClient } from '@tanstack/react-query';
import {
  ConnectionStringResponseSchema,
  ModuleResponseSchema,
  type ModuleCreateRequest,
  type ModuleDetail,
  type ModuleIdentity,
  type ModuleUpdateRequest,
} from '@twinscope/contract';
import { apiRequest, apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { deviceKeys, historyKeys } from '../../../lib/query-keys.ts';

export async function createModule(
  deviceId: string,
  request: ModuleCreateRequest,
): Promise<ModuleIdentity> {
  return (
    await apiRequest(apiPaths.modules(deviceId), ModuleResponseSchema, {
      method: 'POST',
      body: request,
    })
  ).module;
}

export async function updateModule(
  deviceId: string,
  moduleId: string,
  request: ModuleUpdateRequest,
): Promise<ModuleIdentity> {
  return (
    await apiRequest(apiPaths.module(deviceId, moduleId), ModuleResponseSchema, {
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
  await apiSend(apiPaths.moduleDelete(deviceId, moduleId, etag), {
    method: 'DELETE',
  });
}

/** Never a query: the answer holds a key and must not sit in a cache. */
export async function revealConnectionString(deviceId: string, moduleId: string): Promise<string> {
  return (
    await apiRequest(
      apiPaths.moduleConnectionString(deviceId, moduleId),
      ConnectionStringResponseSchema,
      { method: 'POST' },
    )
  ).connectionString;
}

/** Creates a module; the device's module list is read again. */
export function useCreateModule(deviceId: string, onCreated: (module: ModuleIdentity) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: ModuleCreateRequest) => createModule(deviceId, request),
    onSuccess: (module) => {
      void queryClient.invalidateQueries({ queryKey: deviceKeys.modules(deviceId) });
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      onCreated(module);
    },
  });
}

/** Updates a module identity; the module page's cached identity becomes the hub's answer. */
export function useUpdateModule(
  deviceId: string,
  moduleId: string,
  onUpdated: (module: ModuleIdentity) => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: ModuleUpdateRequest) => updateModule(deviceId, moduleId, request),
    onSuccess: (module) => {
      queryClient.setQueryData<ModuleDetail>(deviceKeys.module(deviceId, moduleId), (current) =>
        current ? { ...current, module } : current,
      );
      void queryClient.invalidateQueries({ queryKey: historyKeys.of({ deviceId, moduleId }) });
      onUpdated(module);
    },
  });
}

/** Deletes a module; the device's module list is read again. */
export function useDeleteModule(deviceId: string, moduleId: string, onDeleted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (etag: string) => deleteModule(deviceId, moduleId, etag),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: deviceKeys.modules(deviceId) });
      void queryClient.invalidateQueries({ queryKey: deviceKeys.lists() });
      onDeleted();
    },
  });
}

export function useRevealConnectionString(deviceId: string, moduleId: string) {
  return useMutation({ mutationFn: () => revealConnectionString(deviceId, moduleId) });
}
