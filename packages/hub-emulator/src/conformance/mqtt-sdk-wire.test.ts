import { randomUUID } from 'node:crypto';
import mqtt, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSasToken } from '../auth/sas.ts';
import { rawMqttSocket } from './mqtt-raw.ts';
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
  describe('Python (azure-iot-device v2: paho MQTT 3.1.1, clean session off)', () => {
    /** pipeline_stages_iothub_mqtt.py 49-77, user_agent.py 17-32: the query pairs encoded. */
    const username = (deviceId: string) =>
      `${host()}/${deviceId}/?api-version=2019-10-01&DeviceClientType=${encodeURIComponent('azure-iot-device-iothub-py/2.14.0(3.11.2;Linux #1 SMP;x86_64)')}`;
    const connect = (deviceId: string) =>
      ({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: false,
        clientId: deviceId,
        keepalive: 60,
        username: username(deviceId),
        password: Buffer.from(deviceToken(deviceId)),
      }) as const;
    const publish = (topic: string, payload: string, messageId: number): IPublishPacket => ({
      cmd: 'publish',
      topic,
      payload: Buffer.from(payload),
      qos: 1,
      messageId,
      dup: false,
      retain: false,
    });
    const topicOf = (prefix: string) => (packet: Packet) =>
      packet.cmd === 'publish' && packet.topic.startsWith(prefix);

    it('when a Python device connects, subscribes, sends, reads and writes its twin and answers a method, then each answer is on the topic and in the form it parses, and its session outlives a reconnect', async () => {
      const deviceId = uniqueId('python');
      await hub.registry.create({ deviceId });
      const client = await rawMqttSocket(hub.emulator);
      client.send(connect(deviceId));
      const connack = await client.next('connack');
      expect(connack.cmd === 'connack' && connack.returnCode).toBe(0);
      // mqtt_topic_iothub.py 53-90: four filters, QoS 1 each.
      client.send({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [
          { topic: `devices/${deviceId}/messages/devicebound/#`, qos: 1 },
          { topic: '$iothub/methods/POST/#', qos: 1 },
          { topic: '$iothub/twin/res/#', qos: 1 },
          { topic: '$iothub/twin/PATCH/properties/desired/#', qos: 1 },
        ],
      });
      const suback = await client.next('suback');
      expect(suback.cmd === 'suback' && suback.granted).toEqual([1, 1, 1, 1]);

      // mqtt_topic_iothub.py 334-404: the bag encoded with quote(safe=''), keys too ($ → %24).
      const from = hub.emulator.registry.sequenceNumber;
      client.send(
        publish(
          `devices/${deviceId}/messages/events/%24.mid=py-1&%24.ct=application%2Fjson&level=info`,
          '{"t":22}',
          2,
        ),
      );
      await client.next('puback', 3000, (p) => p.cmd === 'puback' && p.messageId === 2);
      const [event] = hub.emulator.changes
        .since(from)
        .filter((e) => e.source === 'Telemetry' && e.deviceId === deviceId);
      expect(event?.message?.properties).toMatchObject({
        '$.mid': 'py-1',
        '$.ct': 'application/json',
        level: 'info',
      });

      // pipeline_stages_iothub.py 170-206: GET with a single space as payload, rid a uuid;
      // the answer's status is int(parts[3]), and every pair after ? must hold an '='.
      const getRid = randomUUID();
      client.send(publish(`$iothub/twin/GET/?$rid=${getRid}`, ' ', 3));
      const got = await client.next(
        'publish',
        3000,
        topicOf(`$iothub/twin/res/200/?$rid=${getRid}`),
      );
      expect(JSON.parse((got as IPublishPacket).payload.toString())).toHaveProperty(
        'desired.$version',
      );
      const patchRid = randomUUID();
      client.send(
        publish(`$iothub/twin/PATCH/properties/reported/?$rid=${patchRid}`, '{"fw":"3.0"}', 4),
      );
      const patched = (await client.next(
        'publish',
        3000,
        topicOf('$iothub/twin/res/204/'),
      )) as IPublishPacket;
      const query = new URLSearchParams(patched.topic.split('?')[1]);
      expect(query.get('$rid')).toBe(patchRid);
      expect(
        patched.topic
          .split('?')[1]!
          .split('&')
          .every((pair) => pair.includes('=')),
      ).toBe(true);

      // pipeline_stages_iothub_mqtt.py 219-224: a desired patch must carry $version.
      await hub.registry.updateTwin(deviceId, { properties: { desired: { interval: 9 } } }, '*');
      const desired = (await client.next(
        'publish',
        3000,
        topicOf('$iothub/twin/PATCH/properties/desired/'),
      )) as IPublishPacket;
      expect(JSON.parse(desired.payload.toString())).toMatchObject({
        interval: 9,
        $version: expect.any(Number),
      });

      // Methods (mqtt_topic_iothub.py 100-108, 200-208): POST/{name}/?$rid={rid} in, res/{status} out.
      const answer = async (socket: typeof client) => {
        const call = (await socket.next(
          'publish',
          5000,
          topicOf('$iothub/methods/POST/reboot/'),
        )) as IPublishPacket;
        const rid = new URLSearchParams(call.topic.split('?')[1]).get('$rid');
        socket.send(publish(`$iothub/methods/res/200/?$rid=${rid}`, '{"ok":true}', 5));
      };
      const invoke = () =>
        hub.raw.send('POST', `/twins/${deviceId}/methods?api-version=2021-04-12`, {
          body: JSON.stringify({ methodName: 'reboot', responseTimeoutInSeconds: 10 }),
        });
      const [invoked] = await Promise.all([invoke(), answer(client)]);
      expect(invoked.json).toEqual({ status: 200, payload: { ok: true } });

      // mqtt_transport.py: after a reconnect the client does not subscribe again; with clean
      // session off the hub keeps its subscriptions.
      client.end();
      await client.closed;
      const again = await rawMqttSocket(hub.emulator);
      again.send(connect(deviceId));
      await again.next('connack');
      const [reinvoked] = await Promise.all([invoke(), answer(again)]);
      expect(reinvoked.json).toEqual({ status: 200, payload: { ok: true } });
      again.end();
    });

    it('when a Python device connects over WebSockets offering "mqtt", then the hub takes its telemetry', async () => {
      const deviceId = uniqueId('python-ws');
      await hub.registry.create({ deviceId });
      // mqtt_transport.py 148, paho client.py 3725-3747: /$iothub/websocket, subprotocol mqtt.
      const client = await webSocketMqtt(['mqtt']);
      expect(client.socket.protocol).toBe('mqtt');
      client.send(connect(deviceId));
      const connack = await client.next('connack');
      expect(connack.cmd === 'connack' && connack.returnCode).toBe(0);
      client.send(publish(`devices/${deviceId}/messages/events/%24.mid=py-ws`, 'hello', 7));
      const puback = await client.next('puback');
      expect(puback.cmd === 'puback' && puback.messageId).toBe(7);
    });
  });
});
