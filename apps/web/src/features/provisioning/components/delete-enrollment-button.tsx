import { Button, Text, Tooltip } from '@fluentui/react-components';
import type { Enrollment } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { navigate } from '../../../lib/router.tsx';
import { useDeleteEnrollment } from '../api/delete-enrollment.ts';
import { KIND } from '../enrollment-text.ts';

/** Delete, once the enrollment's id is typed out; then back to the provisioning page. */
export function DeleteEnrollmentButton({
  enrollment,
  refusal,
}: {
  enrollment: Enrollment;
  /** Why the operator may not delete enrollments (the policy's reason), or nothing. */
  refusal: string | undefined;
}) {
  const [open, setOpen] = useState(false);
  const remove = useDeleteEnrollment(() => navigate('/provisioning'));
  const button = (
    <Button disabled={refusal !== undefined} onClick={() => setOpen(true)}>
      Delete
    </Button>
  );
  return (
    <>
      {refusal === undefined ? (
        button
      ) : (
        <Tooltip content={refusal} relationship="description">
          {button}
        </Tooltip>
      )}
      <ConfirmDialog
        open={open}
        title={`Delete ${KIND[enrollment.kind].noun} ${enrollment.id}?`}
        confirmLabel={`Delete ${enrollment.id}`}
        typeToConfirm={enrollment.id}
        pending={remove.isPending}
        error={remove.error}
        onCancel={() => {
          setOpen(false);
          remove.reset();
        }}
        onConfirm={() => remove.mutate(enrollment)}
        testId="delete-enrollment"
      >
        <Text>
          No device can register through it any more. Devices it already provisioned keep their
          identities in the hub.
        </Text>
      </ConfirmDialog>
    </>
  );
}
