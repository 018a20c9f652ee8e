import { Badge, Tooltip } from '@fluentui/react-components';
import type { SentMessage } from '@twinscope/contract';
import { RecentTable } from '../../../components/recent-table.tsx';
import { relativeTime } from '../../../lib/format.ts';
import type { useSentMessages } from '../api/messages.ts';

const FEEDBACK_COLOUR = {
  Success: 'success',
  Expired: 'warning',
  DeliveryCountExceeded: 'danger',
  Rejected: 'danger',
  Purged: 'informative',
} as const;

function feedbackOf(message: SentMessage, feedbackOn: boolean) {
  if (message.result !== 'succeeded')
    return (
      <span title={message.error?.message} className="muted">
        not sent ({message.error?.code ?? message.result})
      </span>
    );
  if (message.feedback)
    return (
      <Tooltip content={message.feedback.description} relationship="description">
        <Badge color={FEEDBACK_COLOUR[message.feedback.statusCode]} data-testid="feedback">
          {message.feedback.statusCode}
        </Badge>
      </Tooltip>
    );
  if (message.ack === 'none') return <span className="muted">no feedback asked</span>;
  return <span className="muted">{feedbackOn ? 'waiting for feedback' : 'sent'}</span>;
}

/** The messages sent from Twinscope to this device, each with the hub's feedback as it arrives. */
export function SentMessages({ sent }: { sent: ReturnType<typeof useSentMessages> }) {
  return (
    <RecentTable
      rows={sent.data?.messages}
      pending={sent.isPending}
      error={sent.error}
      empty="No messages sent from Twinscope yet."
      what="messages"
      columns={['Message id', 'Feedback']}
      testId="sent-messages"
      rowTestId="sent-message"
      when={relativeTime}
      cells={(message) => [
        <code key="id">{message.messageId}</code>,
        <span key="feedback">{feedbackOf(message, sent.data?.feedback ?? false)}</span>,
      ]}
    />
  );
}
