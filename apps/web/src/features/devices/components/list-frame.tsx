import {
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
} from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { ThrottledNotice } from '../../../lib/throttled-notice.tsx';

/**
 * What the device and module lists share around their rows: how many are loaded of how many,
 * the hub query the filter became, a throttled hub's notice, the error, loading and empty
 * states; the rows only once there are some.
 */
export function ListFrame({
  noun,
  loaded,
  first,
  query,
  countTestId,
  emptyHint,
  children,
}: {
  /** "devices" or "modules". */
  noun: string;
  loaded: number;
  first: { totalCount?: number | undefined; query: string } | undefined;
  query: {
    isFetching: boolean;
    isError: boolean;
    isPending: boolean;
    error: Error | null;
    failureReason: Error | null;
  };
  countTestId: string;
  emptyHint: string;
  children: ReactNode;
}) {
  return (
    <>
      <div className="list-status">
        {first && (
          <Text size={200} className="muted" data-testid={countTestId}>
            {loaded} loaded
            {first.totalCount !== undefined ? ` of ${first.totalCount} ${noun}` : ''} ·{' '}
            <code title="The IoT Hub query this filter runs">{first.query}</code>
          </Text>
        )}
        {query.isFetching && <Spinner size="extra-tiny" />}
      </div>
      {!query.isError && <ThrottledNotice reason={query.failureReason} />}
      {query.isError ? (
        <MessageBar intent="error" data-testid="list-error">
          <MessageBarBody>
            <MessageBarTitle>Could not list {noun}</MessageBarTitle>
            {query.error?.message}
          </MessageBarBody>
        </MessageBar>
      ) : query.isPending ? (
        <Spinner label={`Loading ${noun}…`} />
      ) : loaded === 0 ? (
        <div className="empty" data-testid="empty-list">
          <Text size={400}>No {noun} match.</Text>
          <Text className="muted">{emptyHint}</Text>
        </div>
      ) : (
        children
      )}
    </>
  );
}
