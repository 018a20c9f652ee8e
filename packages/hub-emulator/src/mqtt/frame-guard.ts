/** The most an MQTT packet may announce: IoT Hub's message limit, topic and properties included. */
export const MAX_PACKET_BYTES = 256 * 1024;

const CONNECT = 1;

/**
 * Reads MQTT fixed headers as bytes arrive, ahead of the packet parser, which would buffer
 * whatever length a packet announces. It answers why to drop the client as soon as a header
 * announces more than the limit, or when the first packet is not CONNECT, before the bytes
 * behind that header are taken in.
 */
export class MqttFrameGuard {
  private packets = 0;
  /** Bytes still to skip of the current packet's body. */
  private body = 0;
  /** Where the next fixed header stands: its type byte, then its remaining-length bytes. */
  private inHeader = false;
  private lengthBytes = 0;
  private length = 0;
  private multiplier = 1;

  constructor(private readonly maxPacketBytes = MAX_PACKET_BYTES) {}

  /** Looks at the next chunk of the stream; answers a reason to close, or undefined. */
  inspect(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.body > 0) {
        const skip = Math.min(this.body, chunk.length - i);
        this.body -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.inHeader) {
        if (this.packets === 0 && byte >> 4 !== CONNECT) return 'the first packet was not CONNECT';
        this.inHeader = true;
        this.lengthBytes = 0;
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (this.length > this.maxPacketBytes)
        return `a packet announced more than ${this.maxPacketBytes / 1024} KB`;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return 'a packet length was malformed';
        continue;
      }
      this.inHeader = false;
      this.packets++;
      this.body = this.length;
    }
    return undefined;
  }
}
