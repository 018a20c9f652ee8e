import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { MqttFrameGuard } from './frame-guard.ts';

const connect = mqtt.generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'd1',
  keepalive: 60,
});
const publish = (bytes: number) =>
  mqtt.generate({
    cmd: 'publish',
    topic: 'devices/d1/messages/events/',
    payload: Buffer.alloc(bytes),
    qos: 0,
    retain: false,
    dup: false,
  });

describe('MQTT frame guard', () => {
  it('when packets stay within the limit, then nothing is refused, however the bytes are split', () => {
    const stream = Buffer.concat([connect, publish(1000), publish(200 * 1024), publish(0)]);
    for (const size of [1, 3, 7, 1024, stream.length]) {
      const guard = new MqttFrameGuard();
      for (let at = 0; at < stream.length; at += size)
        expect(guard.inspect(stream.subarray(at, at + size))).toBeUndefined();
    }
  });

  it('when a header announces more than 256 KB, then it is refused at the header, before its body', () => {
    const guard = new MqttFrameGuard();
    expect(guard.inspect(connect)).toBeUndefined();
    const big = publish(300 * 1024);
    expect(guard.inspect(big.subarray(0, 4))).toMatch(/more than 256 KB/);
  });

  it('when the first packet is not CONNECT, or announces 268 MB, then it is refused at once', () => {
    expect(new MqttFrameGuard().inspect(publish(10))).toMatch(/not CONNECT/);
    // CONNECT with the largest remaining length MQTT can express (268,435,455 bytes).
    expect(new MqttFrameGuard().inspect(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toMatch(
      /more than 256 KB/,
    );
  });

  it('when a remaining length runs past four bytes, then it is malformed', () => {
    const guard = new MqttFrameGuard(Number.MAX_SAFE_INTEGER);
    expect(guard.inspect(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]))).toMatch(/malformed/);
  });
});
