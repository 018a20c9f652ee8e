import { MessageBar, MessageBarBody } from '@fluentui/react-components';
import type { PolicyAction } from '@twinscope/contract';
import { useState } from 'react';
import { useSentMessages } from '../api/messages.ts';
import { QueueHead } from './queue-head.tsx';
import { SendMessageForm } from './send-message-form.tsx';
import { SentMessages } from './sent-messages.tsx';

/**
 * Cloud-to-device messages to one device: a text or JSON body with properties, ids, expiry
 * and the feedback to ask for; the queue depth; what was sent from Twinscope and the hub's
 * feedback on each as it arrives; purging the queue.
 */
export function MessagePanel({
  deviceId,
  refusalOf,
}: {
  deviceId: string;
  /** Why the operator may not send or purge (the policy's reason), or nothing when they may. */
  refusalOf: (action: Extract<PolicyAction, `message.${string}`>) => string | undefined;
}) {
  const [purged, setPurged] = useState<number>();
  const sent = useSentMessages(deviceId);
  return (
    <section
      className="method-panel"
      aria-label="Cloud-to-device messages"
      data-testid="message-panel"
    >
      <QueueHead
        deviceId={deviceId}
        queued={sent.data?.queued}
        refusal={refusalOf('message.purge')}
        onPurged={setPurged}
      />
      <SendMessageForm
        deviceId={deviceId}
        refusal={refusalOf('message.send')}
        onSending={() => setPurged(undefined)}
      />
      {purged !== undefined && (
        <MessageBar intent="success" data-testid="queue-purged">
          <MessageBarBody>{purged} messages purged.</MessageBarBody>
        </MessageBar>
      )}
      <h3>Sent from Twinscope</h3>
      <SentMessages sent={sent} />
    </section>
  );
}
