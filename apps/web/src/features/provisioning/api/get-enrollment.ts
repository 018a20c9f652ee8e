import { queryOptions, useQuery } from '@tanstack/react-query';
import { EnrollmentSchema, type Enrollment, type EnrollmentKind } from '@twinscope/contract';
import { z } from 'zod';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

/** How the BFF answers for one enrollment: read, created or changed. */
export const EnrollmentResponseSchema = z.object({ enrollment: EnrollmentSchema });

export async function getEnrollment(
  kind: EnrollmentKind,
  id: string,
  signal?: AbortSignal,
): Promise<Enrollment> {
  return (
    await apiRequest(
      apiPaths.enrollment(kind, id),
      EnrollmentResponseSchema,
      signal ? { signal } : {},
    )
  ).enrollment;
}

export function getEnrollmentQueryOptions(kind: EnrollmentKind, id: string) {
  return queryOptions({
    queryKey: provisioningKeys.enrollment(kind, id),
    queryFn: ({ signal }) => getEnrollment(kind, id, signal),
  });
}

/** One enrollment group or individual enrollment; nothing is asked while `enabled` is false. */
export function useEnrollment(kind: EnrollmentKind, id: string, enabled = true) {
  return useQuery({ ...getEnrollmentQueryOptions(kind, id), enabled });
}
