import { Text } from '@fluentui/react-components';
import type { Twin } from '@twinscope/contract';
import { relativeTime } from '../../../lib/format.ts';
import { sectionRows } from '../reported-rows.ts';

/** Reported properties, read-only, each with when the device last wrote it. */
export function ReportedPanel({ twin }: { twin: Twin }) {
  const reported = twin.properties.reported;
  const rows = sectionRows(reported);
  const version = reported['$version'];
  return (
    // Focusable, so a keyboard can scroll it when it holds more than it shows (WCAG 2.1.1).
    <aside
      className="reported-panel"
      aria-label="Reported properties"
      data-testid="reported-panel"
      tabIndex={0}
    >
      <div className="reported-header">
        <Text weight="semibold">Reported properties</Text>
        <Text size={200} className="muted">
          read-only · written by the {twin.moduleId ? 'module' : 'device'}
          {typeof version === 'number' ? ` · $version ${version}` : ''}
        </Text>
      </div>
      {rows.length === 0 ? (
        <Text className="muted">Nothing reported yet.</Text>
      ) : (
        <table className="kv-table">
          <tbody>
            {rows.map((row) => (
              <tr key={row.path}>
                <th scope="row">
                  <code>{row.path}</code>
                </th>
                <td>
                  <code>{JSON.stringify(row.value)}</code>
                </td>
                <td className="muted" title={row.lastUpdated}>
                  {relativeTime(row.lastUpdated)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
