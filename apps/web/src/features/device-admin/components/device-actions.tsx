import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { DeviceIdentity, PolicyAction } from '@twinscope/contract';
import { useState, type ReactElement } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { SecretValue } from '../../../components/secret-value.tsx';
import { Link } from '../../../lib/router.tsx';
import {
  useDeleteDevice,
  useRevealDeviceConnectionString,
  useUpdateDevice,
} from '../api/device-admin.ts';

export interface DeviceActionsProps {
  device: DeviceIdentity;
  /** Why the operator may not take an action on this device (the policy's reason), or nothing. */
  refusalOf: (action: PolicyAction) => string | undefined;
  onDeleted(): void;
}

/** Identity actions on a device page; every change carries the identity's etag. */
export function DeviceActions({ device, refusalOf, onDeleted }: DeviceActionsProps) {
  const { deviceId } = device;
  const updateRefusal = refusalOf('identity.update');
  const keyRefusal = refusalOf('key.regenerate');
  const revealRefusal = refusalOf('connection-string.reveal');
  const deleteRefusal = refusalOf('identity.delete');
  const [confirm, setConfirm] = useState<'disable' | 'primary' | 'secondary' | 'delete'>();
  const [reason, setReason] = useState('');
  const [deleted, setDeleted] = useState(false);
  const update = useUpdateDevice(deviceId, () => {
    setConfirm(undefined);
    setReason('');
    reveal.reset();
  });
  const remove = useDeleteDevice(deviceId, () => {
    setConfirm(undefined);
    setDeleted(true);
    onDeleted();
  });
  const reveal = useRevealDeviceConnectionString(deviceId);
  const sas = device.authenticationType === 'sas';
  const guard = (content: ReactElement, refusal: string | undefined) =>
    refusal === undefined ? (
      content
    ) : (
      <Tooltip content={refusal} relationship="description">
        {content}
      </Tooltip>
    );

  if (deleted)
    return (
      <MessageBar intent="success" data-testid="device-deleted">
        <MessageBarBody>
          Device {deviceId} was deleted. <Link to="/devices">Back to the fleet</Link>
        </MessageBarBody>
      </MessageBar>
    );

  return (
    <section className="module-actions" aria-label="Device identity actions">
      <div className="action-row">
        {device.status === 'enabled'
          ? guard(
              <Button disabled={updateRefusal !== undefined} onClick={() => setConfirm('disable')}>
                Disable device
              </Button>,
              updateRefusal,
            )
          : guard(
              <Button
                disabled={updateRefusal !== undefined || update.isPending}
                onClick={() =>
                  update.mutate({ etag: device.etag, status: 'enabled', statusReason: null })
                }
              >
                Enable device
              </Button>,
              updateRefusal,
            )}
        {guard(
          <Button disabled={keyRefusal !== undefined || !sas} onClick={() => setConfirm('primary')}>
            Regenerate primary key
          </Button>,
          keyRefusal,
        )}
        {guard(
          <Button
            disabled={keyRefusal !== undefined || !sas}
            onClick={() => setConfirm('secondary')}
          >
            Regenerate secondary key
          </Button>,
          keyRefusal,
        )}
        {guard(
          <Button
            disabled={revealRefusal !== undefined || !sas || reveal.isPending}
            onClick={() => reveal.mutate()}
          >
            Show connection string
          </Button>,
          revealRefusal,
        )}
        {guard(
          <Button disabled={deleteRefusal !== undefined} onClick={() => setConfirm('delete')}>
            Delete device
          </Button>,
          deleteRefusal,
        )}
      </div>
      {reveal.data && (
        <SecretValue
          value={reveal.data}
          label="Device connection string"
          testId="device-connection-string"
          onHide={() => reveal.reset()}
        />
      )}
      {reveal.error && (
        <MessageBar intent="error">
          <MessageBarBody>{reveal.error.message}</MessageBarBody>
        </MessageBar>
      )}
      {update.error && confirm === undefined && (
        <MessageBar intent="error" data-testid="device-action-error">
          <MessageBarBody>{update.error.message}</MessageBarBody>
        </MessageBar>
      )}

      <ConfirmDialog
        open={confirm === 'disable'}
        title={`Disable ${deviceId}?`}
        confirmLabel="Disable"
        pending={update.isPending}
        error={update.error}
        onCancel={() => setConfirm(undefined)}
        onConfirm={() =>
          update.mutate({
            etag: device.etag,
            status: 'disabled',
            ...(reason.trim() ? { statusReason: reason.trim() } : {}),
          })
        }
      >
        <Text>
          The hub refuses the device&apos;s connections until it is enabled again; its keys and twin
          are kept.
        </Text>
        <Field label="Reason" hint="Shown with the device's status (up to 128 characters)">
          <Input value={reason} maxLength={128} onChange={(_e, d) => setReason(d.value)} />
        </Field>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'primary' || confirm === 'secondary'}
        title={`Regenerate the ${confirm ?? ''} key of ${deviceId}?`}
        confirmLabel="Regenerate"
        pending={update.isPending}
        error={update.error}
        onCancel={() => setConfirm(undefined)}
        onConfirm={() =>
          (confirm === 'primary' || confirm === 'secondary') &&
          update.mutate({ etag: device.etag, regenerateKey: confirm })
        }
      >
        <Text>
          The device stops connecting with the old key until it is given the new connection string.
        </Text>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === 'delete'}
        title={`Delete device ${deviceId}?`}
        confirmLabel={`Delete ${deviceId}`}
        typeToConfirm={deviceId}
        pending={remove.isPending}
        error={remove.error}
        onCancel={() => setConfirm(undefined)}
        onConfirm={() => remove.mutate(device.etag)}
      >
        <Text>
          Its identity, keys, modules and twins are removed from the hub. The device can no longer
          connect.
        </Text>
      </ConfirmDialog>
    </section>
  );
}
