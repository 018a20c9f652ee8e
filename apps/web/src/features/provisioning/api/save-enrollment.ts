import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Enrollment, EnrollmentInput } from '@twinscope/contract';
import { apiRequest } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';
import { EnrollmentResponseSchema } from './get-enrollment.ts';

/** Creates an enrollment (no etag) or changes one (the etag it was read with; 412 when stale). */
export async function saveEnrollment(input: EnrollmentInput): Promise<Enrollment> {
  return (
    await apiRequest(apiPaths.enrollment(input.kind, input.id), EnrollmentResponseSchema, {
      method: 'PUT',
      body: input,
    })
  ).enrollment;
}

/** Saves an enrollment; its page shows DPS's answer at once and the overview is read again. */
export function useSaveEnrollment(onSaved: (enrollment: Enrollment) => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: saveEnrollment,
    onSuccess: (enrollment) => {
      queryClient.setQueryData(
        provisioningKeys.enrollment(enrollment.kind, enrollment.id),
        enrollment,
      );
      void queryClient.invalidateQueries({ queryKey: provisioningKeys.overview });
      onSaved(enrollment);
    },
  });
}
