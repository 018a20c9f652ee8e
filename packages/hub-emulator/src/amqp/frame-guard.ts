/**
 * The largest AMQP frame the hub accepts. The endpoints advertise it in their Open, so a
 * client splits a larger message over several transfer frames (rhea does).
 */
export const MAX_FRAME_BYTES = 64 * 1024;
/**
 * The most a multi-frame message may grow to before the connection is dropped: well above
 * IoT Hub's 256 KB, so an oversized message is still rejected on its link with
 * message-size-exceeded, as the hub does, while an endless one never fills memory.
 */
export const MAX_DELIVERY_BYTES = 1024 * 1024;

/** `AMQP` read as a frame size: the start of a protocol header, not a frame. */
const PROTOCOL_HEADER = 0x414d5150;
/** Bytes of each frame kept to read its performative (a transfer's fields fit in these). */
const PREFIX_BYTES = 128;

/**
 * Watches an AMQP byte stream beside rhea, which would wait for any frame a client
 * announces (even one of 4 GB) and keep every frame of an unfinished message: a frame over
 * the advertised size, a malformed frame size, or one link's message growing past the cap
 * ends the connection. It keeps only a frame's first bytes, never a whole frame.
 */
export class AmqpFrameGuard {
  private prefix: Buffer[] = [];
  private prefixLength = 0;
  /** The current frame's announced size; 0 while reading a header or a frame's size. */
  private frameSize = 0;
  private consumed = 0;
  /** Bytes so far of each link's unfinished message (`channel:handle`). */
  private readonly partial = new Map<string, number>();

  constructor(
    private readonly maxFrame = MAX_FRAME_BYTES,
    private readonly maxDelivery = MAX_DELIVERY_BYTES,
  ) {}

  /** Reads the next bytes; answers why the connection must end, or undefined. */
  inspect(chunk: Buffer): string | undefined {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameSize === 0) {
        const take = Math.min(8 - this.prefixLength, chunk.length - offset);
        this.keep(chunk.subarray(offset, offset + take));
        offset += take;
        if (this.prefixLength < 8) return undefined;
        const head = Buffer.concat(this.prefix);
        const size = head.readUInt32BE(0);
        if (size === PROTOCOL_HEADER) {
          this.reset();
          continue;
        }
        if (size < 8) return `an AMQP frame announced ${size} bytes, less than its own header`;
        if (size > this.maxFrame)
          return `an AMQP frame of ${size} bytes exceeds the ${this.maxFrame} bytes the hub accepts`;
        this.frameSize = size;
        this.consumed = 8;
      } else {
        const take = Math.min(this.frameSize - this.consumed, chunk.length - offset);
        if (this.prefixLength < PREFIX_BYTES)
          this.keep(
            chunk.subarray(offset, offset + Math.min(take, PREFIX_BYTES - this.prefixLength)),
          );
        this.consumed += take;
        offset += take;
      }
      if (this.consumed === this.frameSize) {
        const refusal = this.frameEnded(Buffer.concat(this.prefix), this.frameSize);
        this.reset();
        if (refusal) return refusal;
      }
    }
    return undefined;
  }

  private keep(bytes: Buffer): void {
    this.prefix.push(bytes);
    this.prefixLength += bytes.length;
  }

  private reset(): void {
    this.prefix = [];
    this.prefixLength = 0;
    this.frameSize = 0;
    this.consumed = 0;
  }

  private frameEnded(head: Buffer, size: number): string | undefined {
    const dataOffset = head[4]! * 4;
    // Type 0 is an AMQP frame; SASL frames (1) carry no transfers.
    if (head[5] !== 0 || dataOffset < 8) return undefined;
    const transfer = readTransfer(head, dataOffset);
    if (!transfer) return undefined;
    const key = `${head.readUInt16BE(6)}:${transfer.handle}`;
    if (!transfer.more) {
      this.partial.delete(key);
      return undefined;
    }
    const total = (this.partial.get(key) ?? 0) + size;
    if (total > this.maxDelivery)
      return `a message grew past ${this.maxDelivery} bytes over several frames`;
    this.partial.set(key, total);
    return undefined;
  }
}

/** One AMQP value's end and, for numbers and booleans, its value; undefined if unreadable. */
function readValue(
  buffer: Buffer,
  at: number,
): { next: number; value?: number | boolean } | undefined {
  const code = buffer[at];
  const fixed = (width: number, value?: number | boolean) =>
    at + 1 + width <= buffer.length
      ? { next: at + 1 + width, ...(value !== undefined ? { value } : {}) }
      : undefined;
  switch (code) {
    case 0x40: // null
      return fixed(0);
    case 0x41: // true
      return fixed(0, true);
    case 0x42: // false
      return fixed(0, false);
    case 0x56: // boolean
      return fixed(1, buffer[at + 1] === 1);
    case 0x43: // uint0
    case 0x44: // ulong0
      return fixed(0, 0);
    case 0x52: // smalluint
    case 0x53: // smallulong
      return fixed(1, buffer[at + 1]);
    case 0x70: // uint
      return at + 5 <= buffer.length
        ? { next: at + 5, value: buffer.readUInt32BE(at + 1) }
        : undefined;
    case 0xa0: // vbin8
      return at + 2 <= buffer.length ? { next: at + 2 + buffer[at + 1]! } : undefined;
    case 0xb0: // vbin32
      return at + 5 <= buffer.length ? { next: at + 5 + buffer.readUInt32BE(at + 1) } : undefined;
    default:
      return undefined;
  }
}

/**
 * A transfer performative's link handle and `more` flag, read from a frame's first bytes;
 * undefined for any other performative or anything this reader does not follow.
 */
export function readTransfer(
  frame: Buffer,
  at: number,
): { handle: number; more: boolean } | undefined {
  if (frame[at] !== 0x00) return undefined;
  let p = at + 1;
  if (frame[p] === 0x53 && frame[p + 1] === 0x14) p += 2;
  else if (frame[p] === 0x80 && p + 9 <= frame.length && frame.readBigUInt64BE(p + 1) === 0x14n)
    p += 9;
  else return undefined;
  let count: number;
  if (frame[p] === 0x45) return { handle: 0, more: false };
  if (frame[p] === 0xc0 && p + 3 <= frame.length) {
    count = frame[p + 2]!;
    p += 3;
  } else if (frame[p] === 0xd0 && p + 9 <= frame.length) {
    count = frame.readUInt32BE(p + 5);
    p += 9;
  } else return undefined;
  // handle, delivery-id, delivery-tag, message-format, settled, more
  const fields: (number | boolean | undefined)[] = [];
  for (let i = 0; i < Math.min(count, 6); i++) {
    const read = readValue(frame, p);
    if (!read) return undefined;
    fields.push(read.value);
    p = read.next;
  }
  return { handle: typeof fields[0] === 'number' ? fields[0] : 0, more: fields[5] === true };
}
