import { MessageBar, MessageBarBody, MessageBarTitle, Spinner } from '@fluentui/react-components';
import type { ReactNode } from 'react';
import { ThrottledNotice } from '../../lib/throttled-notice.tsx';

/** The loading and error states every detail page shares. */
export function LoadState(props: {
  pending: boolean;
  error: Error | null;
  /** Why the last attempt failed while a retry is pending (the hub's budget, say). */
  failureReason?: Error | null;
  label: string;
  children: () => ReactNode;
}) {
  if (props.pending) {
    return (
      <>
        <ThrottledNotice reason={props.failureReason} />
        <Spinner label={`Loading ${props.label}…`} />
      </>
    );
  }
  if (props.error) {
    return (
      <MessageBar intent="error" data-testid="load-error">
        <MessageBarBody>
          <MessageBarTitle>{props.error.message}</MessageBarTitle>
        </MessageBarBody>
      </MessageBar>
    );
  }
  return <>{props.children()}</>;
}
