import { Badge, Text } from '@fluentui/react-components';
import type { Twin } from '@twinscope/contract';
import { relativeTime } from '../../../lib/format.ts';
import { syncRows, type SyncState } from '../sync-model.ts';

const LABEL: Record<
  SyncState,
  { text: string; color: 'success' | 'warning' | 'danger' | 'informative' }
> = {
  'in-sync': { text: 'in sync', color: 'success' },
  pending: { text: 'pending', color: 'warning' },
  missing: { text: 'missing from reported', color: 'danger' },
  differs: { text: 'reported differs', color: 'informative' },
};

/** Whether the device or module has acknowledged each desired property. */
export function SyncPanel({ twin }: { twin: Twin }) {
  const rows = syncRows(twin.properties.desired, twin.properties.reported);
  return (
    <section className="sync-panel" aria-label="Desired vs reported" data-testid="sync-panel">
      <Text weight="semibold">Desired vs reported</Text>
      {rows.length === 0 ? (
        <Text className="muted">No desired properties.</Text>
      ) : (
        <table className="kv-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>State</th>
              <th>Desired</th>
              <th>Reported</th>
              <th>Last report</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} data-testid={`sync-${row.key}`}>
                <th scope="row">
                  <code>{row.key}</code>
                </th>
                <td>
                  <Badge color={LABEL[row.state].color} appearance="tint">
                    {LABEL[row.state].text}
                  </Badge>
                </td>
                <td>
                  <code>{JSON.stringify(row.desired)}</code>
                </td>
                <td>
                  <code>{row.reported === undefined ? '—' : JSON.stringify(row.reported)}</code>
                </td>
                <td className="muted" title={row.reportedAt}>
                  {row.reportedAt ? relativeTime(row.reportedAt) : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
