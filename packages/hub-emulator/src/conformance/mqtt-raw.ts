import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqtt, { type Packet } from 'mqtt-packet';
import type { RunningEmulator } from '../emulator.ts';

type Hub = Pick<RunningEmulator, 'hostName' | 'mqttPort' | 'tls'>;

/** A TLS socket to the emulator's MQTT port that reads packets back, and sends anything. */
export async function rawMqttSocket(hub: Hub) {
  const socket: TLSSocket = tlsConnect({
    host: 'localhost',
    port: hub.mqttPort,
    ca: hub.tls.caCert,
    servername: 'localhost',
  });
  const parser = mqtt.parser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  /** Every packet's kind in the order it came (what an SDK reading strictly in order sees). */
  const arrivals: string[] = [];
  const waiters: (() => void)[] = [];
  parser.on('packet', (packet: Packet) => {
    packets.push(packet);
    arrivals.push(packet.cmd);
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  // The server ends replaced or refused connections; the test reads that from `closed`.
  socket.on('error', () => undefined);
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  const send = (packet: Packet) => socket.write(mqtt.generate(packet));
  /** The next packet of this kind (that `pick` accepts); the others stay for later. */
  const next = async (
    cmd: string,
    timeoutMs = 3000,
    pick: (packet: Packet) => boolean = () => true,
  ): Promise<Packet> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = packets.findIndex((p) => p.cmd === cmd && pick(p));
      if (index >= 0) return packets.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  return {
    send,
    next,
    arrivals,
    socket,
    closed,
    get isClosed() {
      return isClosed;
    },
    end: () => socket.end(),
  };
}

/** A bare MQTT 3.1.1 client, for what the SDK does not expose (sessions, takeover). */
export async function rawMqttClient(hub: Hub, clientId: string, password: string, clean: boolean) {
  const client = await rawMqttSocket(hub);
  client.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean,
    clientId,
    keepalive: 60,
    username: `${hub.hostName}/${clientId}/?api-version=2021-04-12`,
    password: Buffer.from(password),
  });
  return client;
}
