import type { ImportLine } from '@twinscope/contract';
import type { ReactNode } from 'react';

/**
 * An import's lines in a table: what each would do (the preview) or, with `outcomes`, also
 * what happened to it (the ended job). Scrolls on its own, reachable from the keyboard.
 */
export function ImportLinesTable({
  label,
  region,
  describedBy,
  testId,
  rowTestId,
  items,
  outcomes = false,
  empty,
}: {
  label: string;
  /** The scrolling region's name. */
  region: string;
  describedBy: string;
  testId: string;
  rowTestId: string;
  items: readonly ImportLine[];
  outcomes?: boolean;
  /** What the table says when there is no line to show. */
  empty: ReactNode;
}) {
  const columns = outcomes ? 6 : 5;
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={region}>
      <table
        className="invocations"
        aria-label={label}
        aria-describedby={describedBy}
        data-testid={testId}
      >
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Device ID</th>
            <th scope="col">Module ID</th>
            <th scope="col">Action</th>
            {outcomes && <th scope="col">Outcome</th>}
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {items.length === 0 ? (
            <tr>
              <td colSpan={columns} className="muted">
                {empty}
              </td>
            </tr>
          ) : (
            items.map((item) => (
              <tr
                key={item.line}
                data-testid={rowTestId}
                data-action={item.action}
                {...(outcomes ? { 'data-outcome': item.outcome } : {})}
              >
                <td>{item.line}</td>
                <td className="mono-cell">{item.deviceId || <span className="muted">—</span>}</td>
                <td className="mono-cell">{item.moduleId ?? ''}</td>
                <td className={outcomes ? undefined : `line-action-${item.action}`}>
                  {item.action}
                </td>
                {outcomes && (
                  <td className={`line-outcome-${item.outcome ?? 'unknown'}`}>
                    {item.outcome ?? 'unknown'}
                  </td>
                )}
                <td>{item.reason ?? ''}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
