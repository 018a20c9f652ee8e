import { MessageBar, MessageBarBody } from '@fluentui/react-components';

/** The history is behind (its database was down or slow) and reads the rest back. */
export function CatchingUpNotice({ events }: { events: number | undefined }) {
  if (!events) return null;
  return (
    <MessageBar intent="info" data-testid="history-catching-up">
      <MessageBarBody>
        The history is catching up: {events.toLocaleString()} events are still to be read back from
        the hub&apos;s endpoint, so recent changes may be missing for a moment.
      </MessageBarBody>
    </MessageBar>
  );
}
