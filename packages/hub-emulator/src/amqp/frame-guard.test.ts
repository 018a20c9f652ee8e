import { describe, expect, it } from 'vitest';
import { AmqpFrameGuard, readTransfer } from './frame-guard.ts';

const HEADER = Buffer.from('AMQP\x00\x01\x00\x00', 'binary');
const EMPTY_FRAME = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);

/** An AMQP transfer frame on a channel and link handle, `more` set or not, with a payload. */
function transfer(handle: number, more: boolean, payload: number, channel = 0): Buffer {
  const fields = Buffer.from([0x52, handle, 0x52, 1, 0xa0, 1, 7, 0x43, 0x42, more ? 0x41 : 0x42]);
  const performative = Buffer.concat([
    Buffer.from([0x00, 0x53, 0x14, 0xc0, fields.length + 1, 6]),
    fields,
  ]);
  const size = 8 + performative.length + payload;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(size, 0);
  head.writeUInt8(2, 4);
  head.writeUInt16BE(channel, 6);
  return Buffer.concat([head, performative, Buffer.alloc(payload, 1)]);
}

/** Feeds bytes one at a time, as a slow network might deliver them. */
function byteByByte(guard: AmqpFrameGuard, bytes: Buffer): string | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const refusal = guard.inspect(bytes.subarray(i, i + 1));
    if (refusal) return refusal;
  }
  return undefined;
}

describe('the AMQP frame guard', () => {
  it('when a client sends headers, heartbeats and frames within the limits, then nothing is refused, however the bytes are split', () => {
    const stream = Buffer.concat([
      HEADER,
      EMPTY_FRAME,
      transfer(1, true, 60_000),
      transfer(1, false, 1_000),
      transfer(2, false, 10),
    ]);
    expect(new AmqpFrameGuard().inspect(stream)).toBeUndefined();
    expect(byteByByte(new AmqpFrameGuard(), stream)).toBeUndefined();
  });

  it('when a frame announces 4 GB or less than its own header, then the connection is refused before any body', () => {
    const huge = Buffer.concat([HEADER, Buffer.from([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0])]);
    expect(new AmqpFrameGuard().inspect(huge)).toMatch(/exceeds the 65536 bytes/);
    const tiny = Buffer.concat([HEADER, Buffer.from([0, 0, 0, 4, 2, 0, 0, 0])]);
    expect(byteByByte(new AmqpFrameGuard(), tiny)).toMatch(/less than its own header/);
  });

  it('when one link keeps sending frames of an unfinished message, then it is refused past the cap; finishing resets the count', () => {
    const guard = new AmqpFrameGuard(64 * 1024, 200_000);
    expect(guard.inspect(HEADER)).toBeUndefined();
    for (let i = 0; i < 3; i++) expect(guard.inspect(transfer(3, true, 60_000))).toBeUndefined();
    expect(guard.inspect(transfer(3, false, 60_000))).toBeUndefined();
    // Another link's message is counted on its own; a fourth frame of 60 KB passes the cap.
    for (let i = 0; i < 3; i++) expect(guard.inspect(transfer(4, true, 60_000))).toBeUndefined();
    expect(guard.inspect(transfer(5, true, 60_000))).toBeUndefined();
    expect(guard.inspect(transfer(4, true, 60_000))).toMatch(/grew past 200000 bytes/);
  });

  it('reads a transfer whose fields are encoded the long way, and ignores other performatives', () => {
    const frame = Buffer.from([
      0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x14, 0xd0, 0, 0, 0, 20, 0, 0, 0, 6, 0x70, 0, 0, 0, 9, 0x43,
      0xb0, 0, 0, 0, 2, 1, 2, 0x40, 0x42, 0x56, 1,
    ]);
    expect(readTransfer(frame, 0)).toEqual({ handle: 9, more: true });
    const attach = Buffer.from([0x00, 0x53, 0x12, 0x45]);
    expect(readTransfer(attach, 0)).toBeUndefined();
  });
});
