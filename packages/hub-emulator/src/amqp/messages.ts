import type { Message } from 'rhea';

/** The body of an AMQP message as bytes: a data section, a string value, or nothing. */
export function bodyBytes(message: Message): Buffer {
  const body = message.body as unknown;
  if (Buffer.isBuffer(body)) return body;
  if (body && typeof body === 'object' && 'content' in body) {
    const content = (body as { content: unknown }).content;
    if (Buffer.isBuffer(content)) return content;
  }
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.alloc(0);
}

export const text = (value: unknown): string | undefined =>
  value === undefined || value === null
    ? undefined
    : Buffer.isBuffer(value)
      ? value.toString('utf8')
      : String(value);

/** A telemetry message's properties, named as the routing layer reads them (`$.mid`, …). */
export function messageProperties(message: Message): Record<string, string> {
  const out: Record<string, string> = {};
  // The SDKs send uuid-shaped ids as AMQP uuids (16 bytes): kept in their usual text form.
  const system: [string, unknown][] = [
    ['$.mid', correlationText(message.message_id) ?? message.message_id],
    ['$.cid', correlationText(message.correlation_id) ?? message.correlation_id],
    ['$.ct', message.content_type],
    ['$.ce', message.content_encoding],
    ['$.uid', message.user_id],
    ['$.to', message.to],
  ];
  for (const [key, value] of system) {
    const shown = text(value);
    if (shown !== undefined) out[key] = shown;
  }
  // A Plug and Play component's name, which the SDKs send as a message annotation.
  const component = text(message.message_annotations?.['dt-subject']);
  if (component !== undefined) out['$.sub'] = component;
  for (const [key, value] of Object.entries(message.application_properties ?? {})) {
    if (key === 'iothub-outputname') out['$.on'] = String(value);
    else if (value !== undefined && value !== null) out[key] = String(value);
  }
  return out;
}

/** A uuid as the 16 bytes AMQP carries it (IoT Hub's method ids, lock tokens, C# GUID tags). */
export const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');

/** A message or correlation id as text: an AMQP uuid (16 bytes) in its usual form, or a string. */
export function correlationText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value) && value.length === 16) {
    const hex = value.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return undefined;
}
