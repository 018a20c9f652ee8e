import { queryOptions, useQuery } from '@tanstack/react-query';
import {
  RegistrationListSchema,
  type EnrollmentKind,
  type Registration,
} from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

export async function getRegistrations(
  kind: EnrollmentKind,
  id: string,
  signal?: AbortSignal,
): Promise<Registration[]> {
  return (
    await apiRequest(
      apiPaths.enrollmentRegistrations(kind, id),
      RegistrationListSchema,
      signal ? { signal } : {},
    )
  ).items;
}

export function getRegistrationsQueryOptions(kind: EnrollmentKind, id: string) {
  return queryOptions({
    queryKey: provisioningKeys.registrations(kind, id),
    queryFn: ({ signal }) => getRegistrations(kind, id, signal),
  });
}

/** The devices that registered through an enrollment; read again as devices come and go. */
export function useRegistrations(kind: EnrollmentKind, id: string) {
  return useQuery({ ...getRegistrationsQueryOptions(kind, id), refetchInterval: 15_000 });
}
