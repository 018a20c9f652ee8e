import { describe, expect, it } from 'vitest';
import { decodeBody, TELEMETRY_BODY_LIMIT } from './telemetry.ts';

describe('telemetry bodies as a tab sees them', () => {
  it('when a body is JSON, then it is sent as JSON; when it is text, as text', () => {
    expect(decodeBody(Buffer.from('{"celsius": 21.5}'))).toEqual({
      body: { kind: 'json', value: { celsius: 21.5 } },
      bytes: 17,
    });
    expect(decodeBody(Buffer.from('42'))).toEqual({ body: { kind: 'json', value: 42 }, bytes: 2 });
    expect(decodeBody(Buffer.from('{not json'))).toEqual({
      body: { kind: 'text', text: '{not json' },
      bytes: 9,
    });
    expect(decodeBody(Buffer.from('héllo wörld')).body).toEqual({
      kind: 'text',
      text: 'héllo wörld',
    });
    expect(decodeBody(Buffer.alloc(0))).toEqual({ body: { kind: 'text', text: '' }, bytes: 0 });
  });

  it('when a body is not valid UTF-8, then it is shown as hex, never as mangled text', () => {
    expect(decodeBody(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]))).toEqual({
      body: { kind: 'binary', hex: 'deadbeef00' },
      bytes: 5,
    });
    // A lone continuation byte in otherwise readable text.
    expect(decodeBody(Buffer.from([0x61, 0x80, 0x62])).body.kind).toBe('binary');
  });

  it('when a body is huge, then only the first 16 KB are sent and the event says how big it was', () => {
    const huge = Buffer.from(JSON.stringify({ blob: 'x'.repeat(100_000) }));
    const decoded = decodeBody(huge);
    expect(decoded.bytes).toBe(huge.length);
    expect(decoded.truncated).toBe(true);
    expect(decoded.body).toEqual({
      kind: 'text',
      text: huge.subarray(0, TELEMETRY_BODY_LIMIT).toString(),
    });
  });
});
