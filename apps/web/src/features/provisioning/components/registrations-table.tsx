import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { EnrollmentKind, Registration } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { devicePath, Link } from '../../../lib/router.tsx';
import { useDeleteRegistration } from '../api/delete-registration.ts';
import { useRegistrations } from '../api/get-registrations.ts';
import { STATUS_COLOR } from '../enrollment-text.ts';

/**
 * The devices that registered through an enrollment: where DPS assigned each, or why it
 * could not; deleting a registration record lets the device register again from scratch.
 */
export function RegistrationsTable({
  kind,
  id,
  refusal,
}: {
  kind: EnrollmentKind;
  id: string;
  /** Why the operator may not delete registrations (the policy's reason), or nothing. */
  refusal?: string;
}) {
  const registrations = useRegistrations(kind, id);
  const [deleting, setDeleting] = useState<Registration>();
  const remove = useDeleteRegistration({ kind, id }, () => setDeleting(undefined));
  if (registrations.isPending) return <Spinner size="tiny" label="Reading the registrations…" />;
  if (registrations.isError)
    return (
      <MessageBar intent="error" data-testid="registrations-error">
        <MessageBarBody>{registrations.error.message}</MessageBarBody>
      </MessageBar>
    );
  const items = registrations.data;
  return (
    <>
      <table className="invocations" aria-label="Registrations" data-testid="registrations">
        <thead>
          <tr>
            <th scope="col">Registration ID</th>
            <th scope="col">Device ID</th>
            <th scope="col">Assigned hub</th>
            <th scope="col">Status</th>
            <th scope="col">Last updated</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.length === 0 ? (
            <tr>
              <td colSpan={6} className="muted">
                No device has registered through it yet.
              </td>
            </tr>
          ) : (
            items.map((r) => (
              <tr key={r.registrationId} data-testid="registration-row">
                <td>{r.registrationId}</td>
                <td>
                  {r.deviceId ? (
                    <Link to={devicePath(r.deviceId)}>{r.deviceId}</Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>{r.assignedHub ?? <span className="muted">—</span>}</td>
                <td>
                  <Badge appearance="tint" color={STATUS_COLOR[r.status]}>
                    {r.status}
                  </Badge>
                  {r.substatus && <span className="muted"> {r.substatus}</span>}
                  {r.status === 'failed' && (r.errorCode !== undefined || r.errorMessage) && (
                    <div className="registration-error">
                      {r.errorCode !== undefined && `${r.errorCode}: `}
                      {r.errorMessage}
                    </div>
                  )}
                </td>
                <td title={r.updatedAt ?? r.createdAt}>
                  {relativeTime(r.updatedAt ?? r.createdAt)}
                </td>
                <td>
                  <Tooltip
                    content={refusal ?? 'The device registers again from scratch next time.'}
                    relationship="description"
                  >
                    <Button
                      size="small"
                      disabled={refusal !== undefined}
                      aria-label={`Delete registration ${r.registrationId}`}
                      onClick={() => setDeleting(r)}
                    >
                      Delete registration
                    </Button>
                  </Tooltip>
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      {registrations.isFetching && (
        <Text size={200} className="muted" role="status">
          Refreshing…
        </Text>
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the registration of ${deleting?.registrationId ?? ''}?`}
        confirmLabel="Delete registration"
        pending={remove.isPending}
        error={remove.error}
        onCancel={() => {
          setDeleting(undefined);
          remove.reset();
        }}
        onConfirm={() => deleting && remove.mutate(deleting)}
        testId="delete-registration"
      >
        <Text>
          DPS forgets where it assigned the device. The device keeps its identity in the hub; the
          next time it registers, DPS evaluates it again from scratch (allocation and initial twin).
        </Text>
      </ConfirmDialog>
    </>
  );
}
