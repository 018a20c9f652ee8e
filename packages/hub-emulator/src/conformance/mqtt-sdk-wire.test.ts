import mqtt, { type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSasToken } from '../auth/sas.ts';
import { uniqueId, useHub } from './hub.ts';

/**
 * MQTT as SDKs other than Node's speak it, frame by frame: what each sends is read from its
 * source and named beside the step that follows it.
 */
describe('Emulator: MQTT as the C and Python SDKs speak it', () => {
  const hub = useHub();
  const sockets: WebSocket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.terminate();
  });

  const host = () => hub.emulator.hostName;
  const deviceToken = (deviceId: string) => {
    const key = hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!;
    const resource = `${host()}/devices/${deviceId}`;
    return createSasToken(resource, key, Math.floor(Date.now() / 1000) + 600);
  };

  /** MQTT packets over a WebSocket, as a client that offered `protocols` hears them. */
  async function webSocketMqtt(protocols: string[]) {
    const socket = new WebSocket(
      `wss://localhost:${hub.emulator.httpsPort}/$iothub/websocket`,
      protocols,
      {
        ca: hub.emulator.tls.caCert,
      },
    );
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const parser = mqtt.parser({ protocolVersion: 4 });
    const packets: Packet[] = [];
    const waiting: (() => void)[] = [];
    parser.on('packet', (packet: Packet) => {
      packets.push(packet);
      waiting.splice(0).forEach((wake) => wake());
    });
    socket.on('message', (data: Buffer) => parser.parse(data));
    const next = async (cmd: string): Promise<Packet> => {
      for (;;) {
        const at = packets.findIndex((p) => p.cmd === cmd);
        if (at >= 0) return packets.splice(at, 1)[0]!;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${cmd}`)), 3000);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    };
    return { socket, send: (packet: Packet) => socket.send(mqtt.generate(packet)), next };
  }

  it('when the C SDK connects over WebSockets offering "MQTT", then the hub echoes "MQTT" and takes its telemetry', async () => {
    const deviceId = uniqueId('c-mqtt-ws');
    await hub.registry.create({ deviceId });
    // iothubtransportmqtt_websockets.c 31-32: subprotocol "MQTT" on /$iothub/websocket.
    const client = await webSocketMqtt(['MQTT']);
    // ws checks the echo against the offer; the hub answers as it was offered.
    expect(client.socket.protocol).toBe('MQTT');
    // iothubtransport_mqtt_common.c 2647, 2928: user <host>/<device>/?api-version&DeviceClientType.
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      clientId: deviceId,
      keepalive: 240,
      username: `${host()}/${deviceId}/?api-version=2020-09-30&DeviceClientType=iothubclient%2f1.14.0`,
      password: Buffer.from(deviceToken(deviceId)),
    });
    const connack = await client.next('connack');
    expect(connack.cmd === 'connack' && connack.returnCode).toBe(0);
    const from = hub.emulator.registry.sequenceNumber;
    // iothubtransport_mqtt_common.c 74: devices/<id>/messages/events/ and a property bag.
    client.send({
      cmd: 'publish',
      topic: `devices/${deviceId}/messages/events/$.mid=c-1&$.ct=application%2Fjson&level=info`,
      payload: Buffer.from('{"t":21}'),
      qos: 1,
      messageId: 2,
      dup: false,
      retain: false,
    });
    const puback = await client.next('puback');
    expect(puback.cmd === 'puback' && puback.messageId).toBe(2);
    const [event] = hub.emulator.changes
      .since(from)
      .filter((e) => e.source === 'Telemetry' && e.deviceId === deviceId);
    expect(event?.message?.properties).toMatchObject({
      '$.mid': 'c-1',
      '$.ct': 'application/json',
      level: 'info',
    });
  });
});
