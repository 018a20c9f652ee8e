import type { TelemetryEvent } from '@twinscope/contract';
import { parseJson } from '@twinscope/twin';
import type { RoutedChange } from '../adapters/event-hubs.ts';

/** The most of a body a tab is sent; the rest is cut and the event says so. */
export const TELEMETRY_BODY_LIMIT = 16 * 1024;

/** A body as JSON when it parses, as text when it is valid UTF-8, otherwise as hex. */
export function decodeBody(body: Buffer): {
  body: TelemetryEvent['body'];
  bytes: number;
  truncated?: true;
} {
  const bytes = body.length;
  const cut = bytes > TELEMETRY_BODY_LIMIT ? body.subarray(0, TELEMETRY_BODY_LIMIT) : body;
  const truncated = bytes > TELEMETRY_BODY_LIMIT ? { truncated: true as const } : {};
  let text: string;
  try {
    // A cut may end inside a character: streaming lets that last, incomplete one go.
    text = new TextDecoder('utf-8', { fatal: true }).decode(cut, { stream: bytes > cut.length });
  } catch {
    return { body: { kind: 'binary', hex: cut.toString('hex') }, bytes, ...truncated };
  }
  if (!truncated.truncated && /^\s*[[{"\d\-tfn]/.test(text)) {
    try {
      return { body: { kind: 'json', value: parseJson(text) }, bytes };
    } catch {
      // Not JSON after all: shown as the text it is.
    }
  }
  return { body: { kind: 'text', text }, bytes, ...truncated };
}

/** A routed device-to-cloud message as the event tabs get. */
export function telemetryEvent(change: RoutedChange): TelemetryEvent | undefined {
  const message = change.message;
  if (!message) return undefined;
  return {
    type: 'telemetry',
    deviceId: change.deviceId,
    ...(change.moduleId !== undefined ? { moduleId: change.moduleId } : {}),
    enqueuedTime: new Date(message.enqueuedTime).toISOString(),
    position: `${change.position.partition}:${change.position.sequenceNumber}`,
    ...decodeBody(message.body),
    properties: message.properties,
    system: message.system,
  };
}
