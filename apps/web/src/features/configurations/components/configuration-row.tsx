import { Badge, Button, Tooltip } from '@fluentui/react-components';
import type { Configuration } from '@twinscope/contract';
import type { ReactElement } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { Link } from '../../../lib/router.tsx';
import { deviceListPath, targetsPath } from '../form-model.ts';

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
 * One automatic configuration: id, kind and labels, priority, target condition, twins
 * targeted and applied, custom metrics (each count opening its devices), when it changed,
 * and Change (not for IoT Edge deployments) and Delete.
 */
export function ConfigurationRow({
  configuration: c,
  refusal,
  onChange,
  onDelete,
}: {
  configuration: Configuration;
  /** Why the operator may not change configurations (the policy's reason), or nothing. */
  refusal: string | undefined;
  onChange(): void;
  onDelete(): void;
}) {
  const manage = (button: ReactElement) =>
    refusal === undefined ? (
      button
    ) : (
      <Tooltip content={refusal} relationship="description">
        {button}
      </Tooltip>
    );
  return (
    <tr data-testid="configuration-row">
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
                {name}: <Count value={c.metrics.results[name]} path={deviceListPath(query)} />
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
            <Button size="small" disabled={refusal !== undefined} onClick={onChange}>
              Change
            </Button>,
          )}{' '}
        {manage(
          <Button size="small" disabled={refusal !== undefined} onClick={onDelete}>
            Delete
          </Button>,
        )}
      </td>
    </tr>
  );
}
