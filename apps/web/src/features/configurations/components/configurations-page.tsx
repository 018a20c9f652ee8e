import {
  Badge,
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
import { relativeTime } from '../../../lib/format.ts';
import { Link } from '../../../lib/router.tsx';
import { useConfigurations, useDeleteConfiguration } from '../api/configurations.ts';
import { deviceListPath, inputOf, targetsPath } from '../form-model.ts';
import { ConfigurationDialog } from './configuration-dialog.tsx';

const KIND = { device: 'Devices', module: 'Modules', edge: 'IoT Edge' } as const;

/** A count, opening the device list behind it when there is one. */
function Count({ value, path }: { value: number | undefined; path: string | undefined }) {
  if (value === undefined) return <span className="muted">—</span>;
  return path ? (
    <Link to={path}>{value.toLocaleString()}</Link>
  ) : (
    <span>{value.toLocaleString()}</span>
  );
}

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
              <tr key={c.id} data-testid="configuration-row">
                <td>
                  <strong>{c.id}</strong> <Badge appearance="tint">{KIND[c.kind]}</Badge>
                  {Object.entries(c.labels).map(([k, v]) => (
                    <Badge key={k} appearance="outline" size="small">
                      {k}={v}
                    </Badge>
                  ))}
                </td>
                <td>{c.priority}</td>
                <td>
                  <code>{c.targetCondition || '(none: targets nothing)'}</code>
                </td>
                <td data-testid="targeted">
                  <Count value={c.targetedCount} path={targetsPath(c)} />
                </td>
                <td data-testid="applied">
                  <Count value={c.appliedCount} path={undefined} />
                </td>
                <td>
                  {Object.keys(c.metrics.queries).length === 0 ? (
                    <span className="muted">none</span>
                  ) : (
                    <ul className="change-lines">
                      {Object.entries(c.metrics.queries).map(([name, query]) => (
                        <li key={name} title={query} data-testid="metric">
                          {name}:{' '}
                          <Count value={c.metrics.results[name]} path={deviceListPath(query)} />
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td title={c.lastUpdatedTimeUtc}>
                  {c.lastUpdatedTimeUtc ? relativeTime(c.lastUpdatedTimeUtc) : ''}
                </td>
                <td>
                  {c.kind !== 'edge' &&
                    manage(
                      <Button
                        size="small"
                        disabled={!canManage}
                        onClick={() => setEditing(inputOf(c))}
                      >
                        Change
                      </Button>,
                    )}{' '}
                  {manage(
                    <Button size="small" disabled={!canManage} onClick={() => setDeleting(c)}>
                      Delete
                    </Button>,
                  )}
                </td>
              </tr>
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
