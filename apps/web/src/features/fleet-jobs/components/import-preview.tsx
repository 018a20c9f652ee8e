import { Button, MessageBar, MessageBarBody, Text } from '@fluentui/react-components';
import { IMPORT_LISTED_MAX, type ImportPreview } from '@twinscope/contract';
import { useId } from 'react';
import { changesSomething, countsSummary } from '../import-text.ts';
import { ImportLinesTable } from './import-lines-table.tsx';
import { Refusable } from './refusable.tsx';

/**
 * What an import file would do to the hub as it is now: the counts, the way to run it, and
 * the lines one by one (the first IMPORT_LISTED_MAX).
 */
export function ImportPreviewPanel({
  preview,
  refusal,
  running,
  onRun,
}: {
  preview: ImportPreview;
  /** Why the operator may not import (the policy's reason), or nothing. */
  refusal: string | undefined;
  running: boolean;
  onRun(): void;
}) {
  const countsId = useId();
  const { counts } = preview;
  const something = changesSomething(counts);
  return (
    <div className="method-panel" data-testid="import-preview">
      <div className="action-row import-run">
        <Text id={countsId} weight="semibold" data-testid="import-counts">
          {countsSummary(counts)}
        </Text>
        <span className="spacer" />
        {!something && <Text className="muted">Nothing in this file would change the hub.</Text>}
        <Refusable refusal={refusal}>
          <Button
            appearance="primary"
            disabled={!something || running}
            disabledFocusable={refusal !== undefined}
            onClick={onRun}
          >
            Run import
          </Button>
        </Refusable>
      </div>
      {preview.truncated && (
        <MessageBar intent="info" data-testid="import-preview-truncated">
          <MessageBarBody>
            The file has {counts.lines.toLocaleString()} lines: the first{' '}
            {IMPORT_LISTED_MAX.toLocaleString()} are listed. The counts are for the whole file.
          </MessageBarBody>
        </MessageBar>
      )}
      <ImportLinesTable
        label="Import preview"
        region="Lines of the file"
        describedBy={countsId}
        testId="import-preview-table"
        rowTestId="preview-row"
        items={preview.items}
        empty="The file has no lines."
      />
    </div>
  );
}
