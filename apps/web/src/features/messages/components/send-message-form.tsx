import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Radio,
  RadioGroup,
  Select,
  Spinner,
  Textarea,
  Tooltip,
} from '@fluentui/react-components';
import type { CloudMessageSendRequest } from '@twinscope/contract';
import { useState } from 'react';
import { useSendMessage } from '../api/messages.ts';
import { checkMessageForm, MAX_MINUTES, type PropertyRow } from '../message-form.ts';
import { PropertyRows } from './property-rows.tsx';

/**
 * A cloud-to-device message to write and send: a text or JSON body, application
 * properties, ids, expiry and the feedback to ask for; then whether the hub queued it.
 */
export function SendMessageForm({
  deviceId,
  refusal,
  onSending,
}: {
  deviceId: string;
  /** Why the operator may not send (the policy's reason), or nothing when they may. */
  refusal: string | undefined;
  /** A message is on its way: earlier outcomes no longer apply. */
  onSending(): void;
}) {
  const [body, setBody] = useState('');
  const [format, setFormat] = useState<'text' | 'json'>('text');
  const [rows, setRows] = useState<PropertyRow[]>([{ name: '', value: '' }]);
  const [messageId, setMessageId] = useState('');
  const [correlationId, setCorrelationId] = useState('');
  const [expiresInMinutes, setExpiresInMinutes] = useState('');
  const [ack, setAck] = useState<CloudMessageSendRequest['ack']>('full');
  const [sentId, setSentId] = useState<string>();
  const send = useSendMessage(deviceId);
  const { jsonProblem, expiryProblem, request } = checkMessageForm({
    body,
    format,
    rows,
    messageId,
    correlationId,
    expiresInMinutes,
    ack,
  });
  const ready = refusal === undefined && !jsonProblem && !expiryProblem && !send.isPending;

  const submit = () => {
    if (!ready) return;
    setSentId(undefined);
    onSending();
    send.mutate(request, { onSuccess: (id) => setSentId(id) });
  };

  return (
    <>
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
      <PropertyRows rows={rows} onChange={setRows} />
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
        <Tooltip content={refusal ?? 'Send (Ctrl+Enter in the body)'} relationship="description">
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
    </>
  );
}
