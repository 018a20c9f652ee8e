import { queryOptions, useQuery } from '@tanstack/react-query';
import { ProvisioningOverviewSchema, type ProvisioningOverview } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

/** The DPS the BFF manages (none when unconfigured), its groups and individual enrollments. */
export function getProvisioning(signal?: AbortSignal): Promise<ProvisioningOverview> {
  return apiRequest(apiPaths.provisioning, ProvisioningOverviewSchema, signal ? { signal } : {});
}

export function getProvisioningQueryOptions() {
  return queryOptions({
    queryKey: provisioningKeys.overview,
    queryFn: ({ signal }) => getProvisioning(signal),
  });
}

export function useProvisioning() {
  return useQuery(getProvisioningQueryOptions());
}
