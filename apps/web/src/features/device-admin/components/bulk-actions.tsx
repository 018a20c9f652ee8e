import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
} from '@fluentui/react-components';
import type { BulkDeviceRequest, BulkDeviceResult } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { useBulkDevices } from '../api/device-admin.ts';

type Action = BulkDeviceRequest['action'];

const DONE: Record<Action, string> = {
  enable: 'enabled',
  disable: 'disabled',
  delete: 'deleted',
};

export interface BulkActionsProps {
  /** The selected devices, each with the identity etag the list showed. */
  selected: { deviceId: string; etag: string }[];
  onDone(): void;
}

/**
 * Enables, disables or deletes the selected devices through the bulk registry API, then
 * says per device what happened: one refused device does not hide the others.
 */
export function BulkActions({ selected, onDone }: BulkActionsProps) {
  const [action, setAction] = useState<Action>();
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState<{ action: Action; results: BulkDeviceResult[] }>();
  const bulk = useBulkDevices((results) => {
    if (action) setOutcome({ action, results });
    setAction(undefined);
    setReason('');
    onDone();
  });
  const count = selected.length;
  const refused = outcome?.results.filter((r) => !r.ok) ?? [];
  const run = (chosen: Action) =>
    bulk.mutate({
      action: chosen,
      devices: selected,
      ...(chosen === 'disable' && reason.trim() ? { statusReason: reason.trim() } : {}),
    });

  return (
    <>
      {count > 0 && (
        <div className="bulk-bar" role="toolbar" aria-label="Selected devices">
          <Text weight="semibold" data-testid="selected-count">
            {count} selected
          </Text>
          <Button onClick={() => setAction('disable')}>Disable…</Button>
          <Button disabled={bulk.isPending} onClick={() => run('enable')}>
            Enable
          </Button>
          <Button onClick={() => setAction('delete')}>Delete…</Button>
        </div>
      )}
      {bulk.error && action === undefined && (
        <MessageBar intent="error">
          <MessageBarBody>{bulk.error.message}</MessageBarBody>
        </MessageBar>
      )}
      {outcome && (
        <MessageBar intent={refused.length > 0 ? 'warning' : 'success'} data-testid="bulk-outcome">
          <MessageBarBody>
            <MessageBarTitle>
              {outcome.results.length - refused.length} of {outcome.results.length}{' '}
              {DONE[outcome.action]}
            </MessageBarTitle>
            {refused.length > 0 && (
              <ul className="bulk-refused">
                {refused.map((r) => (
                  <li key={r.deviceId}>{r.error?.message ?? `${r.deviceId} was refused.`}</li>
                ))}
              </ul>
            )}
          </MessageBarBody>
        </MessageBar>
      )}
      <ConfirmDialog
        open={action === 'disable'}
        title={`Disable ${count} devices?`}
        confirmLabel={`Disable ${count}`}
        pending={bulk.isPending}
        error={bulk.error}
        onCancel={() => setAction(undefined)}
        onConfirm={() => run('disable')}
      >
        <Text>
          The hub refuses their connections until they are enabled again. A device changed since the
          list loaded is left as it is and reported.
        </Text>
        <Field label="Reason" hint="Shown with each device's status (up to 128 characters)">
          <Input value={reason} maxLength={128} onChange={(_e, d) => setReason(d.value)} />
        </Field>
      </ConfirmDialog>
      <ConfirmDialog
        open={action === 'delete'}
        title={`Delete ${count} devices?`}
        confirmLabel={`Delete ${count}`}
        typeToConfirm={String(count)}
        pending={bulk.isPending}
        error={bulk.error}
        onCancel={() => setAction(undefined)}
        onConfirm={() => run('delete')}
      >
        <Text>
          Their identities, keys, modules and twins are removed from the hub. Type how many devices
          to confirm.
        </Text>
      </ConfirmDialog>
    </>
  );
}
