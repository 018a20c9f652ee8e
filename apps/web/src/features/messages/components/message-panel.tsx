import {
  Badge,
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Radio,
  RadioGroup,
  Select,
  Spinner,
  Text,
  Textarea,
  Tooltip,
} from '@fluentui/react-components';
import {
  CLOUD_MESSAGE_TTL_MAX_SECONDS,
  type CloudMessageSendRequest,
  type PolicyAction,
  type SentMessage,
} from '@twinscope/contract';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { RecentTable } from '../../../components/recent-table.tsx';
import { relativeTime } from '../../../lib/format.ts';
import { parseJsonText } from '../../../lib/json-text.ts';

/** IoT Hub's longest time to live, in minutes (two days). */
const MAX_MINUTES = CLOUD_MESSAGE_TTL_MAX_SECONDS / 60;
import { usePurgeMessages, useSendMessage, useSentMessages } from '../api/messages.ts';

const FEEDBACK_COLOUR = {
  Success: 'success',
  Expired: 'warning',
  DeliveryCountExceeded: 'danger',
  Rejected: 'danger',
  Purged: 'informative',
} as const;

interface PropertyRow {
  name: string;
  value: string;
}

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
  const sendRefusal = refusalOf('message.send');
  const purgeRefusal = refusalOf('message.purge');
  const [body, setBody] = useState('');
  const [format, setFormat] = useState<'text' | 'json'>('text');
  const [rows, setRows] = useState<PropertyRow[]>([{ name: '', value: '' }]);
  const [messageId, setMessageId] = useState('');
  const [correlationId, setCorrelationId] = useState('');
  const [expiresInMinutes, setExpiresInMinutes] = useState('');
  const [ack, setAck] = useState<CloudMessageSendRequest['ack']>('full');
  const [sentId, setSentId] = useState<string>();
  const [purging, setPurging] = useState(false);
  const [purged, setPurged] = useState<number>();
  const send = useSendMessage(deviceId);
  const purge = usePurgeMessages(deviceId, (count) => {
    setPurging(false);
    setPurged(count);
  });
  const sent = useSentMessages(deviceId);

  const parsedBody = format === 'json' ? parseJsonText(body, 'The body') : undefined;
  const jsonProblem = parsedBody && !parsedBody.ok ? parsedBody.message : undefined;
  const minutes = Number(expiresInMinutes);
  const expiryProblem =
    expiresInMinutes === '' || (Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_MINUTES)
      ? undefined
      : `Expiry is 1 to ${MAX_MINUTES.toLocaleString('en')} minutes (two days).`;
  const named = rows.filter((row) => row.name.trim() !== '');
  const ready = sendRefusal === undefined && !jsonProblem && !expiryProblem && !send.isPending;

  const submit = () => {
    if (!ready) return;
    setSentId(undefined);
    setPurged(undefined);
    send.mutate(
      {
        body,
        format,
        properties: Object.fromEntries(named.map((row) => [row.name.trim(), row.value])),
        ...(messageId.trim() ? { messageId: messageId.trim() } : {}),
        ...(correlationId.trim() ? { correlationId: correlationId.trim() } : {}),
        ...(expiresInMinutes !== '' ? { expiresInSeconds: minutes * 60 } : {}),
        ack,
      },
      { onSuccess: (id) => setSentId(id) },
    );
  };

  return (
    <section
      className="method-panel"
      aria-label="Cloud-to-device messages"
      data-testid="message-panel"
    >
      <div className="section-head">
        <Text data-testid="queue-depth">
          {sent.data
            ? `${sent.data.queued} waiting in the device's queue (IoT Hub holds 50 at most)`
            : ''}
        </Text>
        <Tooltip
          content={purgeRefusal ?? 'Drop every message waiting for this device'}
          relationship="description"
        >
          <Button
            disabled={purgeRefusal !== undefined || !sent.data?.queued}
            onClick={() => setPurging(true)}
          >
            Purge queue
          </Button>
        </Tooltip>
      </div>
      <Field label="Body">
        <RadioGroup
          layout="horizontal"
          value={format}
          onChange={(_e, d) => setFormat(d.value as 'text' | 'json')}
        >
          <Radio value="text" label="Text" />
          <Radio value="json" label="JSON (content type application/json)" />
        </RadioGroup>
      </Field>
      <Field validationMessage={jsonProblem} validationState={jsonProblem ? 'error' : 'none'}>
        <Textarea
          value={body}
          onChange={(_e, d) => setBody(d.value)}
          onKeyDown={(event) => {
            if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') submit();
          }}
          aria-label="Message body"
          resize="vertical"
          rows={4}
          className="message-body"
        />
      </Field>
      <div className="property-rows" aria-label="Application properties">
        {rows.map((row, index) => (
          <div className="property-row" key={index}>
            <Input
              placeholder="property"
              aria-label={`Property ${index + 1} name`}
              value={row.name}
              onChange={(_e, d) =>
                setRows(rows.map((r, i) => (i === index ? { ...r, name: d.value } : r)))
              }
            />
            <Input
              placeholder="value"
              aria-label={`Property ${index + 1} value`}
              value={row.value}
              onChange={(_e, d) =>
                setRows(rows.map((r, i) => (i === index ? { ...r, value: d.value } : r)))
              }
            />
            <Button
              appearance="subtle"
              aria-label={`Remove property ${index + 1}`}
              onClick={() =>
                setRows(
                  rows.length > 1 ? rows.filter((_r, i) => i !== index) : [{ name: '', value: '' }],
                )
              }
            >
              ✕
            </Button>
          </div>
        ))}
        <Button size="small" onClick={() => setRows([...rows, { name: '', value: '' }])}>
          Add property
        </Button>
      </div>
      <div className="method-form">
        <Field label="Message id" hint="Empty: Twinscope gives one">
          <Input value={messageId} onChange={(_e, d) => setMessageId(d.value)} />
        </Field>
        <Field label="Correlation id">
          <Input value={correlationId} onChange={(_e, d) => setCorrelationId(d.value)} />
        </Field>
        <Field
          label="Expires in (min)"
          hint="Empty: the hub's default (1 h)"
          validationMessage={expiryProblem}
          validationState={expiryProblem ? 'error' : 'none'}
        >
          <Input
            type="number"
            min={1}
            max={MAX_MINUTES}
            value={expiresInMinutes}
            onChange={(_e, d) => setExpiresInMinutes(d.value)}
          />
        </Field>
        <Field label="Feedback">
          <Select
            value={ack}
            onChange={(_e, d) => setAck(d.value as CloudMessageSendRequest['ack'])}
          >
            <option value="full">delivered or not (full)</option>
            <option value="positive">when delivered (positive)</option>
            <option value="negative">when not delivered (negative)</option>
            <option value="none">none</option>
          </Select>
        </Field>
      </div>
      <div>
        <Tooltip
          content={sendRefusal ?? 'Send (Ctrl+Enter in the body)'}
          relationship="description"
        >
          <Button appearance="primary" disabled={!ready} onClick={submit}>
            {send.isPending ? <Spinner size="tiny" label="Sending…" /> : 'Send message'}
          </Button>
        </Tooltip>
      </div>
      {send.error && (
        <MessageBar intent="error" data-testid="message-error">
          <MessageBarBody>{send.error.message}</MessageBarBody>
        </MessageBar>
      )}
      {sentId && (
        <MessageBar intent="success" data-testid="message-sent">
          <MessageBarBody>
            Queued for {deviceId} as <code>{sentId}</code>.
          </MessageBarBody>
        </MessageBar>
      )}
      {purged !== undefined && (
        <MessageBar intent="success" data-testid="queue-purged">
          <MessageBarBody>{purged} messages purged.</MessageBarBody>
        </MessageBar>
      )}
      <h3>Sent from Twinscope</h3>
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
      <ConfirmDialog
        open={purging}
        title={`Purge the queue of ${deviceId}?`}
        confirmLabel="Purge"
        pending={purge.isPending}
        error={purge.error}
        onCancel={() => setPurging(false)}
        onConfirm={() => purge.mutate()}
      >
        <Text>
          The {sent.data?.queued ?? 0} messages waiting for the device are dropped; senders that
          asked for feedback get Purged.
        </Text>
      </ConfirmDialog>
    </section>
  );
}
