import { MessageBar, MessageBarBody } from '@fluentui/react-components';
import { useLiveStatus } from '../use-live.ts';

/**
 * Says so when the live view is not reading the hub's Event Hubs-compatible endpoint (it
 * polls twins instead), for what only the endpoint carries: telemetry, connection events.
 */
export function EndpointNotice({ what }: { what: string }) {
  const { feed } = useLiveStatus();
  if (!feed || feed.source === 'event-hubs') return null;
  return (
    <MessageBar intent="info">
      <MessageBarBody>
        {what} from the hub&apos;s Event Hubs-compatible endpoint;{' '}
        {feed.message ?? 'the live view is not reading it right now.'}
      </MessageBarBody>
    </MessageBar>
  );
}
