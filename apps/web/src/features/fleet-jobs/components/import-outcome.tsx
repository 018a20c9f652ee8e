import { Switch, Text } from '@fluentui/react-components';
import type { FleetJob } from '@twinscope/contract';
import { useId, useMemo, useState } from 'react';
import { outcomeLines, outcomeSummary } from '../job-model.ts';
import { ImportLinesTable } from './import-lines-table.tsx';

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
        <ImportLinesTable
          label="Import outcome"
          region="Lines of the import"
          describedBy={summaryId}
          testId="import-outcome"
          rowTestId="outcome-row"
          items={shown}
          outcomes
          empty={onlyFailures ? 'No line failed.' : 'No lines are listed.'}
        />
      )}
    </div>
  );
}
