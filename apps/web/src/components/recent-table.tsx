import { MessageBar, MessageBarBody, Spinner } from '@fluentui/react-components';
import type { ReactNode } from 'react';

/**
 * A short list of what was done from Twinscope (calls, messages): loading, its error, an
 * empty sentence, or a table with When and Who first and the columns given.
 */
export function RecentTable<T extends { id: string; at: string; actor: { name: string } }>({
  rows,
  pending,
  error,
  empty,
  what,
  columns,
  cells,
  testId,
  rowTestId,
  when,
}: {
  rows: T[] | undefined;
  pending: boolean;
  error: Error | null;
  empty: string;
  /** What is loading, for the spinner ("calls"). */
  what: string;
  columns: string[];
  cells(row: T): ReactNode[];
  testId: string;
  rowTestId: string;
  when(at: string): string;
}) {
  if (pending) return <Spinner size="tiny" label={`Loading ${what}…`} />;
  if (error)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{error.message}</MessageBarBody>
      </MessageBar>
    );
  if (!rows || rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table className="invocations" data-testid={testId}>
      <thead>
        <tr>
          <th>When</th>
          <th>Who</th>
          {columns.map((column) => (
            <th key={column}>{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} data-testid={rowTestId}>
            <td title={new Date(row.at).toLocaleString()}>{when(row.at)}</td>
            <td>{row.actor.name}</td>
            {cells(row).map((cell, index) => (
              <td key={index}>{cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
