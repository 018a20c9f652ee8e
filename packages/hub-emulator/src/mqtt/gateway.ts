// One MQTT connection's life, from CONNECT to close, and the dispatch of its packets. What
// each packet does lives beside it: connect-auth.ts (SAS or X.509 at CONNECT),
// cloud-to-device-delivery.ts, device-publish.ts (twin requests, method answers, telemetry)
// and direct-methods.ts; topics.ts, devicebound-topic.ts and frame-guard.ts are the pure parts.
import { modelIdOfUsername } from '../devices/model-id.ts';
import type { Duplex } from 'node:stream';
import mqtt, { type IConnectPacket, type ISubscribePacket, type Packet } from 'mqtt-packet';
import type { SasContext } from '../auth/sas.ts';
import type { ClientCertificate } from '../auth/x509.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import { identityKey, type DeviceSessions } from '../devices/device-sessions.ts';
import type { ChangeEvent } from '../store/change-log.ts';
import type { Registry } from '../store/registry.ts';
import {
  cloudToDeviceAcked,
  startCloudToDevice,
  stopCloudToDevice,
} from './cloud-to-device-delivery.ts';
import { authenticateConnect } from './connect-auth.ts';
import { send, type Connection, type Session } from './connection.ts';
import { handlePublish, type PublishContext } from './device-publish.ts';
import { DirectMethods } from './direct-methods.ts';
import { MqttFrameGuard } from './frame-guard.ts';
import { isProvisioningConnect, ProvisioningMqttSession } from '../provisioning/mqtt.ts';
import type { Provisioning } from '../provisioning/provisioning.ts';
import { allowedFilters, topicMatches } from './topics.ts';

export interface GatewayOptions {
  registry: Registry;
  sessions: DeviceSessions;
  c2d: CloudToDevice;
  sas: SasContext;
  /** Devices registering with the provisioning service share the hub's MQTT listeners. */
  provisioning?: Provisioning;
  log?: (line: string) => void;
}

/**
 * IoT Hub's device-facing MQTT 3.1.1 surface for azure-iot-device-mqtt: SAS connect,
 * persistent subscriptions, twin GET and reported PATCH, desired notifications, direct
 * methods and device-to-cloud messages. It is not a general broker: every topic belongs
 * to the identity that connected.
 */
export class DeviceGateway {
  private readonly sessions = new Map<string, Session>();
  private readonly connections = new Map<string, Connection>();
  private readonly methods: DirectMethods;
  private readonly publishContext: PublishContext;
  /** Every open socket, authenticated or not, so closing the hub never waits on one. */
  private readonly sockets = new Set<Duplex>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: GatewayOptions) {
    const deliver = (clientId: string, topic: string, payload: Buffer | string) =>
      this.deliver(clientId, topic, payload);
    this.methods = new DirectMethods(options.sessions, deliver);
    this.publishContext = {
      registry: options.registry,
      methods: this.methods,
      deliver,
      log: (line) => this.log(line),
    };
    this.unsubscribe = options.registry.changes.subscribe((event) => this.onChange(event));
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /**
   * Takes a freshly accepted connection: a TLS socket, or a WebSocket's stream (MQTT over
   * WS), with the certificate the client presented in its TLS handshake, if any.
   */
  accept(socket: Duplex, certificate?: ClientCertificate): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const parser = mqtt.parser({ protocolVersion: 4 });
    let connection: Connection | undefined;
    let registering: ProvisioningMqttSession | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      if (connection) this.disconnected(connection);
    };
    parser.on('packet', (packet: Packet) => {
      try {
        if (registering) return registering.onPacket(packet, close);
        if (!connection) {
          if (packet.cmd !== 'connect') return close();
          const { provisioning } = this.options;
          if (provisioning && isProvisioningConnect(packet, provisioning.idScope)) {
            registering = ProvisioningMqttSession.connect(
              socket,
              packet,
              certificate,
              provisioning,
              (line) => this.log(line),
              close,
            );
            if (!registering) close();
            return;
          }
          connection = this.connect(socket, packet, certificate);
          if (!connection) return close();
          return;
        }
        connection.keepAlive?.refresh();
        this.onPacket(connection, packet, close);
      } catch (error) {
        this.log(
          `mqtt: dropping a client after an error: ${error instanceof Error ? error.message : String(error)}`,
        );
        close();
      }
    });
    parser.on('error', () => close());
    const guard = new MqttFrameGuard();
    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      // IoT Hub closes the connection of a client that sends more than 256 KB; checked on the
      // announced length, so an oversized packet is never buffered.
      const refusal = guard.inspect(chunk);
      if (refusal) {
        this.log(`mqtt: dropping ${connection?.clientId ?? 'a client'}: ${refusal}`);
        close();
        return;
      }
      parser.parse(chunk);
    });
    socket.on('error', () => close());
    socket.on('close', () => close());
    // A client that never says CONNECT is dropped.
    const connectTimer = setTimeout(() => {
      if (!connection && !registering) close();
    }, 60_000);
    connectTimer.unref();
    socket.once('close', () => clearTimeout(connectTimer));
  }

  private connect(
    socket: Duplex,
    packet: IConnectPacket,
    certificate: ClientCertificate | undefined,
  ): Connection | undefined {
    const verdict = authenticateConnect(
      packet,
      certificate,
      this.options.registry,
      this.options.sas,
    );
    if (!verdict.admitted) {
      this.log(`mqtt: refused ${packet.clientId}: ${verdict.reason}`);
      send(socket, { cmd: 'connack', returnCode: verdict.returnCode, sessionPresent: false });
      return undefined;
    }
    const { identity, expiresAt } = verdict;

    // A second connection with the same client id replaces the first (IoT Hub 400027).
    const previous = this.connections.get(packet.clientId);
    if (previous) {
      this.connections.delete(packet.clientId);
      previous.socket.destroy();
    }
    let session = this.sessions.get(packet.clientId);
    const sessionPresent = !packet.clean && session !== undefined;
    if (packet.clean || !session) {
      session = { subscriptions: new Map() };
      this.sessions.set(packet.clientId, session);
    }
    const connection: Connection = {
      socket,
      clientId: packet.clientId,
      identity,
      session,
      nextPacketId: 1,
    };
    this.connections.set(packet.clientId, connection);
    const keepalive = packet.keepalive ?? 0;
    // MQTT: a client silent for 1.5 keep-alive periods is gone.
    if (keepalive > 0) connection.keepAlive = setTimeout(() => socket.destroy(), keepalive * 1500);
    // IoT Hub closes a connection when its token expires; the SDK renews before that.
    const lifetime = expiresAt - Date.now();
    if (lifetime > 0 && lifetime < 2 ** 31)
      connection.tokenExpiry = setTimeout(() => socket.destroy(), lifetime);
    send(socket, { cmd: 'connack', returnCode: 0, sessionPresent });
    this.options.sessions.connected(identity, modelIdOfUsername(packet.username));
    // A persistent session that subscribed before gets what was queued meanwhile, and
    // listens for methods again.
    startCloudToDevice(connection, this.options.c2d);
    this.methods.steer(connection);
    this.log(`mqtt: ${packet.clientId} connected`);
    return connection;
  }

  private disconnected(connection: Connection): void {
    clearTimeout(connection.keepAlive);
    clearTimeout(connection.tokenExpiry);
    connection.stopMethods?.();
    stopCloudToDevice(connection, this.options.c2d);
    // Counted once per connection, a replaced one included, so the state ends Disconnected.
    this.options.sessions.disconnected(connection.identity);
    if (this.connections.get(connection.clientId) !== connection) return;
    this.connections.delete(connection.clientId);
    this.methods.disconnected(connection.clientId);
    this.log(`mqtt: ${connection.clientId} disconnected`);
  }

  private onPacket(connection: Connection, packet: Packet, close: () => void): void {
    switch (packet.cmd) {
      case 'subscribe':
        return this.subscribe(connection, packet);
      case 'unsubscribe':
        for (const topic of packet.unsubscriptions) connection.session.subscriptions.delete(topic);
        this.methods.steer(connection);
        return send(connection.socket, {
          cmd: 'unsuback',
          messageId: packet.messageId,
          granted: [],
        });
      case 'publish':
        return handlePublish(connection, packet, this.publishContext);
      case 'pingreq':
        return send(connection.socket, { cmd: 'pingresp' });
      case 'puback':
        return cloudToDeviceAcked(connection, packet.messageId, this.options.c2d);
      case 'disconnect':
        return close();
      default:
        return close();
    }
  }

  private subscribe(connection: Connection, packet: ISubscribePacket): void {
    const allowed = allowedFilters(connection.identity);
    const granted = packet.subscriptions.map(({ topic, qos }) => {
      if (!allowed.includes(topic)) return 128;
      const grantedQos = (qos > 1 ? 1 : qos) as 0 | 1;
      connection.session.subscriptions.set(topic, grantedQos);
      return grantedQos;
    });
    send(connection.socket, { cmd: 'suback', messageId: packet.messageId, granted });
    startCloudToDevice(connection, this.options.c2d);
    this.methods.steer(connection);
  }

  /** Delivers to a connected client, if it subscribed to a matching filter. */
  private deliver(clientId: string, topic: string, payload: Buffer | string): boolean {
    const connection = this.connections.get(clientId);
    if (!connection) return false;
    const subscribed = [...connection.session.subscriptions.keys()].some((filter) =>
      topicMatches(filter, topic),
    );
    if (!subscribed) return false;
    send(connection.socket, {
      cmd: 'publish',
      topic,
      payload,
      qos: 0,
      retain: false,
      dup: false,
    });
    return true;
  }

  /** Desired-property notifications go to the identity's connected client. */
  private onChange(event: ChangeEvent): void {
    if (!event.desiredPatch) return;
    const version = event.desiredPatch['$version'];
    const clientId = identityKey({
      deviceId: event.deviceId,
      ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    });
    this.deliver(
      clientId,
      `$iothub/twin/PATCH/properties/desired/?$version=${version}`,
      JSON.stringify(event.desiredPatch),
    );
  }

  close(): void {
    this.unsubscribe();
    for (const socket of this.sockets) socket.destroy();
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.methods.close();
  }
}
