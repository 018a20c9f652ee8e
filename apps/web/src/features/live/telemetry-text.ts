import type { TelemetryEvent } from '@twinscope/contract';

/** A message body as shown: JSON indented, text as it is, bytes as spaced hex. */
export function bodyText(event: TelemetryEvent): string {
  switch (event.body.kind) {
    case 'json':
      return JSON.stringify(event.body.value, null, 2);
    case 'text':
      return event.body.text;
    case 'binary':
      return event.body.hex.replace(/(..)/g, '$1 ').trim();
  }
}
