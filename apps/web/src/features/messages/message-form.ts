import { CLOUD_MESSAGE_TTL_MAX_SECONDS, type CloudMessageSendRequest } from '@twinscope/contract';
import { parseJsonText } from '../../lib/json-text.ts';

/** IoT Hub's longest time to live, in minutes (two days). */
export const MAX_MINUTES = CLOUD_MESSAGE_TTL_MAX_SECONDS / 60;

/** An application property as typed; rows without a name are not sent. */
export interface PropertyRow {
  name: string;
  value: string;
}

/** The cloud-to-device message form as typed. */
export interface MessageForm {
  body: string;
  format: 'text' | 'json';
  rows: PropertyRow[];
  messageId: string;
  correlationId: string;
  /** Minutes, or empty for the hub's default. */
  expiresInMinutes: string;
  ack: CloudMessageSendRequest['ack'];
}

export interface CheckedMessageForm {
  /** Why a JSON body is not JSON. */
  jsonProblem?: string;
  /** Why the expiry is out of range. */
  expiryProblem?: string;
  /** The request to send (only once both problems are absent). */
  request: CloudMessageSendRequest;
}

/** What is wrong with the form, and the request it makes: named properties, trimmed ids. */
export function checkMessageForm(form: MessageForm): CheckedMessageForm {
  const parsedBody = form.format === 'json' ? parseJsonText(form.body, 'The body') : undefined;
  const jsonProblem = parsedBody && !parsedBody.ok ? parsedBody.message : undefined;
  const minutes = Number(form.expiresInMinutes);
  const expiryProblem =
    form.expiresInMinutes === '' ||
    (Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_MINUTES)
      ? undefined
      : `Expiry is 1 to ${MAX_MINUTES.toLocaleString('en')} minutes (two days).`;
  const named = form.rows.filter((row) => row.name.trim() !== '');
  const messageId = form.messageId.trim();
  const correlationId = form.correlationId.trim();
  return {
    ...(jsonProblem ? { jsonProblem } : {}),
    ...(expiryProblem ? { expiryProblem } : {}),
    request: {
      body: form.body,
      format: form.format,
      properties: Object.fromEntries(named.map((row) => [row.name.trim(), row.value])),
      ...(messageId ? { messageId } : {}),
      ...(correlationId ? { correlationId } : {}),
      ...(form.expiresInMinutes !== '' ? { expiresInSeconds: minutes * 60 } : {}),
      ack: form.ack,
    },
  };
}
