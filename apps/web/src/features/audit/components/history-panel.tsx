import {
  Badge,
  Button,
  MessageBar,
  MessageBarBody,
  Spinner,
  Tooltip,
} from '@fluentui/react-components';
import type { AuditEntry, Twin, TwinRef } from '@twinscope/contract';
import { useState } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { useHistory } from '../api/history.ts';
import { useRevertChange } from '../api/revert-change.ts';
import { RESULT_COLOR } from '../../../lib/result-colors.ts';
import { ACTIONS } from '../actions.ts';

function hasRevert(entry: AuditEntry): boolean {
  const r = entry.revert;
  return (
    entry.result === 'succeeded' &&
    !entry.revertOmitted &&
    (entry.action === 'twin.patch' || entry.action === 'twin.replace') &&
    r !== undefined &&
    Object.keys(r.tags ?? {}).length + Object.keys(r.desired ?? {}).length > 0
  );
}

/**
 * The twin's audit history: who changed what and when, with the result. A change can be
 * reverted: its inverse patch is shown, then sent with the twin's current etag.
 */
export function HistoryPanel({
  target,
  twin,
  refusal,
}: {
  target: TwinRef;
  twin: Twin;
  /** Why the operator may not revert a change (the policy's reason, shown by a disabled Revert). */
  refusal?: string;
}) {
  const history = useHistory(target);
  const [reverting, setReverting] = useState<AuditEntry | undefined>();
  const revert = useRevertChange(target, () => setReverting(undefined));

  if (history.isPending) return <Spinner size="tiny" label="Loading history…" />;
  if (history.error)
    return (
      <MessageBar intent="error">
        <MessageBarBody>{history.error.message}</MessageBarBody>
      </MessageBar>
    );
  const entries = history.data.pages.flatMap((page) => page.entries);
  return (
    <section className="history" aria-label="History" data-testid="history">
      {entries.length === 0 ? (
        <p className="muted">No changes recorded by Twinscope yet.</p>
      ) : (
        <ol className="history-list">
          {entries.map((entry) => (
            <li key={entry.id} className="history-entry" data-testid="history-entry">
              <div className="history-line">
                <strong>{entry.actor.name}</strong> {ACTIONS[entry.action]}
                {entry.revertOf ? ' (revert)' : ''}{' '}
                <Tooltip content={new Date(entry.at).toLocaleString()} relationship="description">
                  <span className="muted">{relativeTime(entry.at)}</span>
                </Tooltip>{' '}
                <Badge appearance="tint" color={RESULT_COLOR[entry.result]}>
                  {entry.result}
                </Badge>
                {entry.before?.version !== undefined && entry.after?.version !== undefined && (
                  <span className="muted">
                    {' '}
                    v{entry.before.version} → v{entry.after.version}
                  </span>
                )}
                <span className="spacer" />
                {hasRevert(entry) && (
                  <Tooltip
                    content={refusal ?? 'Undo this change with a new patch'}
                    relationship="description"
                  >
                    <Button
                      size="small"
                      disabled={refusal !== undefined}
                      onClick={() => {
                        revert.reset();
                        setReverting(entry);
                      }}
                    >
                      Revert
                    </Button>
                  </Tooltip>
                )}
              </div>
              {Object.keys(entry.change).length > 0 && (
                <code className="history-change">{JSON.stringify(entry.change)}</code>
              )}
              {entry.changeDigest && (
                <div className="muted">
                  A {Math.round(entry.changeDigest.bytes / 1024)} KB change, too large to keep here
                  (SHA-256 {entry.changeDigest.sha256.slice(0, 12)}…)
                  {entry.revertOmitted ? '; it cannot be reverted from here.' : '.'}
                </div>
              )}
              {entry.error && <div className="muted">{entry.error.message}</div>}
            </li>
          ))}
        </ol>
      )}
      {history.hasNextPage && (
        <Button
          size="small"
          appearance="subtle"
          disabled={history.isFetchingNextPage}
          onClick={() => void history.fetchNextPage()}
        >
          {history.isFetchingNextPage ? 'Loading older changes…' : 'Show older changes'}
        </Button>
      )}
      <ConfirmDialog
        open={reverting !== undefined}
        title="Revert this change?"
        confirmLabel="Revert"
        pending={revert.isPending}
        error={revert.error}
        onCancel={() => setReverting(undefined)}
        onConfirm={() => reverting && revert.mutate({ entry: reverting, etag: twin.etag })}
      >
        <p>
          This patch sets back what {reverting?.actor.name} changed (keys they added are removed).
          It is sent with the twin&apos;s current etag, so a change made meanwhile is never
          overwritten silently.
        </p>
        <pre className="patch-preview" data-testid="revert-patch">
          {JSON.stringify(reverting?.revert, null, 2)}
        </pre>
      </ConfirmDialog>
    </section>
  );
}
