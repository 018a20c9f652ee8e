import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';
import { isThrottled } from './query-client.ts';

/** While a query waits out the hub's budget (429), says so; the query client asks again. */
export function ThrottledNotice({ reason }: { reason: Error | null | undefined }) {
  if (!isThrottled(reason)) return null;
  return (
    <MessageBar intent="warning" data-testid="throttled">
      <MessageBarBody>
        <MessageBarTitle>Waiting for the hub</MessageBarTitle>
        {reason.message} Twinscope asks again by itself.
      </MessageBarBody>
    </MessageBar>
  );
}
