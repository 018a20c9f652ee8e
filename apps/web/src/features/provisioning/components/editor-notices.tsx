import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  MessageBarTitle,
} from '@fluentui/react-components';
import { ApiError } from '../../../lib/api-client.ts';

/**
 * What the enrollment form says above itself: that it is read-only and why, that someone
 * changed the enrollment meanwhile (before a save, or as the reason one was refused), or
 * why the last save failed.
 */
export function EditorNotices({
  noun,
  refusal,
  incoming,
  onTakeIncoming,
  stale,
  onReload,
  error,
}: {
  /** "enrollment group" or "individual enrollment". */
  noun: string;
  refusal: string | undefined;
  /** A newer enrollment arrived while the operator has edits. */
  incoming: boolean;
  onTakeIncoming(): void;
  /** The last save was refused for a stale etag (412). */
  stale: boolean;
  onReload(): void;
  error: Error | null;
}) {
  return (
    <>
      {refusal !== undefined && (
        <MessageBar intent="info" data-testid="enrollment-read-only">
          <MessageBarBody>
            <MessageBarTitle>Read only</MessageBarTitle>
            {refusal}
          </MessageBarBody>
        </MessageBar>
      )}
      {incoming && !stale && (
        <MessageBar intent="warning" data-testid="enrollment-incoming">
          <MessageBarBody>
            Someone changed this {noun} while you were editing it; saving your edits would be
            refused.
          </MessageBarBody>
          <MessageBarActions>
            <Button onClick={onTakeIncoming}>Reload</Button>
          </MessageBarActions>
        </MessageBar>
      )}
      {stale && (
        <MessageBar intent="warning" data-testid="enrollment-conflict">
          <MessageBarBody>
            <MessageBarTitle>Not saved</MessageBarTitle>
            Someone else changed this {noun} since it was read. Reload it to see their change (your
            edits are discarded), then make yours again.
          </MessageBarBody>
          <MessageBarActions>
            <Button onClick={onReload}>Reload</Button>
          </MessageBarActions>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error" data-testid="enrollment-error">
          <MessageBarBody>
            <MessageBarTitle>Not saved</MessageBarTitle>
            {error.message}
            {error instanceof ApiError &&
              error.violations.length > 0 &&
              ` (${error.violations.map((v) => v.path).join(', ')})`}
          </MessageBarBody>
        </MessageBar>
      )}
    </>
  );
}
