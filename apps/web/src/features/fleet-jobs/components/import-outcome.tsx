import { Switch, Text } from '@fluentui/react-components';
import type { FleetJob } from '@twinscope/contract';
import { useId, useMemo, useState } from 'react';
import { outcomeLines, outcomeSummary } from '../job-model.ts';

/** An ended import, line by line: what happened to each identity, or only what failed. */
export function ImportOutcome({ job }: { job: FleetJob }) {
  const [onlyFailures, setOnlyFailures] = useState(false);
  const items = job.items;
  const shown = useMemo(() => outcomeLines(items ?? [], onlyFailures), [items, onlyFailures]);
  const summaryId = useId();
  const failed = job.failed ?? items?.filter((i) => i.outcome === 'failed').length ?? 0;
  return (
    <div className="method-panel">
      <div className="action-row job-outcome-head">
        <Text
          id={summaryId}
          weight="semibold"
          className={failed > 0 ? 'line-outcome-failed' : undefined}
          data-testid="import-failed"
          data-failed={failed}
        >
          {outcomeSummary(job)}
        </Text>
        <span className="spacer" />
        {items !== undefined && (
          <Switch
            label="Only failures"
            checked={onlyFailures}
            onChange={(_e, data) => setOnlyFailures(data.checked)}
          />
        )}
      </div>
      {items !== undefined && (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Lines of the import">
          <table
            className="invocations"
            aria-label="Import outcome"
            aria-describedby={summaryId}
            data-testid="import-outcome"
          >
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Device ID</th>
                <th scope="col">Module ID</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 ? (
                <tr>
                  <td colSpan={6} className="muted">
                    {onlyFailures ? 'No line failed.' : 'No lines are listed.'}
                  </td>
                </tr>
              ) : (
                shown.map((item) => (
                  <tr key={item.line} data-testid="outcome-row" data-outcome={item.outcome}>
                    <td>{item.line}</td>
                    <td className="mono-cell">
                      {item.deviceId || <span className="muted">—</span>}
                    </td>
                    <td className="mono-cell">{item.moduleId ?? ''}</td>
                    <td>{item.action}</td>
                    <td className={`line-outcome-${item.outcome ?? 'unknown'}`}>
                      {item.outcome ?? 'unknown'}
                    </td>
                    <td>{item.reason ?? ''}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
