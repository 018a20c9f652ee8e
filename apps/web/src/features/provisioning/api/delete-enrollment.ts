import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Enrollment } from '@twinscope/contract';
import { apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

export async function deleteEnrollment(enrollment: Enrollment): Promise<void> {
  await apiSend(apiPaths.enrollmentDelete(enrollment.kind, enrollment.id, enrollment.etag), {
    method: 'DELETE',
  });
}

/** Deletes an enrollment with the etag it was read with; it leaves the cache and the overview. */
export function useDeleteEnrollment(onDeleted: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteEnrollment,
    onSuccess: (_nothing, enrollment) => {
      queryClient.removeQueries({
        queryKey: provisioningKeys.enrollment(enrollment.kind, enrollment.id),
      });
      void queryClient.invalidateQueries({ queryKey: provisioningKeys.overview });
      onDeleted();
    },
  });
}
