import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { EnrollmentKind, Registration } from '@twinscope/contract';
import { apiSend } from '../../../lib/api-client.ts';
import { apiPaths } from '../../../lib/api-paths.ts';
import { provisioningKeys } from '../../../lib/query-keys.ts';

export async function deleteRegistration(registration: Registration): Promise<void> {
  await apiSend(apiPaths.registrationDelete(registration.registrationId, registration.etag), {
    method: 'DELETE',
  });
}

/**
 * Deletes a device's registration record (the device registers again from scratch next
 * time); the enrollment's registrations are read again.
 */
export function useDeleteRegistration(
  enrollment: { kind: EnrollmentKind; id: string },
  onDeleted: () => void,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: deleteRegistration,
    onSuccess: () => {
      void queryClient.invalidateQueries({
        queryKey: provisioningKeys.registrations(enrollment.kind, enrollment.id),
      });
      onDeleted();
    },
  });
}
