import {
  Button,
  MessageBar,
  MessageBarBody,
  Spinner,
  Text,
  Tooltip,
} from '@fluentui/react-components';
import type { Configuration, ConfigurationInput } from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { useConfigurations, useDeleteConfiguration } from '../api/configurations.ts';
import { inputOf } from '../form-model.ts';
import { ConfigurationDialog } from './configuration-dialog.tsx';
import { ConfigurationRow } from './configuration-row.tsx';

/**
 * The hub's automatic configurations: priority, target condition, how many twins each
 * targets and applied to, and custom metrics (each opening the device list behind it);
 * creating, changing and deleting them, for whom the policy allows.
 */
export function ConfigurationsPage({
  refusal,
}: {
  /** Why the operator may not change configurations (the policy's reason), or nothing. */
  refusal?: string;
}) {
  const list = useConfigurations();
  const [editing, setEditing] = useState<ConfigurationInput | 'new'>();
  const [deleting, setDeleting] = useState<Configuration>();
  const remove = useDeleteConfiguration(() => setDeleting(undefined));
  const items = list.data?.items ?? [];
  const canManage = refusal === undefined;
  const manage = (button: React.ReactElement) =>
    refusal === undefined ? (
      button
    ) : (
      <Tooltip content={refusal} relationship="description">
        {button}
      </Tooltip>
    );

  return (
    <section className="page" aria-label="Configurations" data-testid="configurations">
      <div className="action-row">
        <Text className="muted">
          Automatic configurations set desired properties on every twin their condition selects;
          where two set the same property, the higher priority wins.
        </Text>
        <Button onClick={() => void list.refetch()} disabled={list.isFetching}>
          {list.isFetching ? 'Refreshing…' : 'Refresh'}
        </Button>
        {manage(
          <Button appearance="primary" disabled={!canManage} onClick={() => setEditing('new')}>
            New configuration
          </Button>,
        )}
      </div>
      {list.isPending ? (
        <Spinner size="tiny" label="Loading configurations…" />
      ) : list.error ? (
        <MessageBar intent="error">
          <MessageBarBody>{list.error.message}</MessageBarBody>
        </MessageBar>
      ) : items.length === 0 ? (
        <p className="muted">No automatic configuration on this hub yet.</p>
      ) : (
        <table className="invocations" data-testid="configurations-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>Priority</th>
              <th>Target condition</th>
              <th>Targeted</th>
              <th>Applied</th>
              <th>Custom metrics</th>
              <th>Changed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <ConfigurationRow
                key={c.id}
                configuration={c}
                refusal={refusal}
                onChange={() => setEditing(inputOf(c))}
                onDelete={() => setDeleting(c)}
              />
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <ConfigurationDialog
          {...(editing === 'new' ? {} : { editing })}
          onClose={() => setEditing(undefined)}
        />
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete ${deleting?.id ?? ''}?`}
        confirmLabel={`Delete ${deleting?.id ?? ''}`}
        typeToConfirm={deleting?.id ?? ''}
        pending={remove.isPending}
        error={remove.error}
        onCancel={() => {
          setDeleting(undefined);
          remove.reset();
        }}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
        testId="delete-configuration"
      >
        <p>
          The twins it targets keep what it set; where another configuration targets them, that one
          takes over the properties.
        </p>
      </ConfirmDialog>
    </section>
  );
}
