import { useInfiniteQuery } from '@tanstack/react-query';
import { FleetModuleListSchema, type FleetModuleList } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths, type DeviceFilter } from '../../../lib/api-paths.ts';
import { deviceKeys } from '../../../lib/query-keys.ts';

export function getFleetModules(
  filter: DeviceFilter,
  continuation?: string,
  signal?: AbortSignal,
): Promise<FleetModuleList> {
  return apiRequest(
    apiPaths.fleetModules(filter, continuation),
    FleetModuleListSchema,
    signal ? { signal } : {},
  );
}

/** The fleet's module twins a filter matches, a page at a time. */
export function useFleetModules(filter: DeviceFilter) {
  return useInfiniteQuery({
    queryKey: deviceKeys.moduleList(filter),
    queryFn: ({ pageParam, signal }) => getFleetModules(filter, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.continuation,
  });
}
