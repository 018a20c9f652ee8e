// Long on purpose: this is one MQTT connection's whole life on IoT Hub's device surface
// (CONNECT and its SAS or X.509 check, persistent subscriptions, twin requests, desired
// pushes, direct methods, telemetry, cloud-to-device deliveries and their PUBACKs), and every
// handler reads and changes the same per-connection state. The pure parts are apart already:
// topics.ts (topic names and filters) and frame-guard.ts (sizes checked at the header).
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import mqtt, {
  type IConnectPacket,
  type IPublishPacket,
  type ISubscribePacket,
  type Packet,
} from 'mqtt-packet';
import {
  jsonNestingBeyond,
  jsonNestingMessage,
  parseJson,
  renderSection,
  type JsonValue,
} from '@twinscope/twin';
import { verifySasToken, scopeCovers, type SasContext } from '../auth/sas.ts';
import { authenticateCertificate, type ClientCertificate } from '../auth/x509.ts';
import { deviceErrorBody, HubError } from '../errors.ts';
import { MqttFrameGuard } from './frame-guard.ts';
import type { ChangeEvent } from '../store/change-log.ts';
import { parseReportedPatch } from '../store/identity-input.ts';
import type { Registry } from '../store/registry.ts';
import { identityKey, type DeviceSessions } from '../devices/device-sessions.ts';
import type { CloudMessage, CloudToDevice } from '../c2d/cloud-to-device.ts';
import {
  allowedFilters,
  classifyPublish,
  METHODS_FILTER,
  identityFromClientId,
  topicMatches,
  type Identity,
} from './topics.ts';

/** Subscriptions kept per client id across reconnects when clean = false (the SDK relies on it). */
interface Session {
  subscriptions: Map<string, 0 | 1>;
}

interface Connection {
  socket: Duplex;
  clientId: string;
  identity: Identity;
  session: Session;
  nextPacketId: number;
  keepAlive?: NodeJS.Timeout;
  tokenExpiry?: NodeJS.Timeout;
  /** Stops this connection listening for direct methods. */
  stopMethods?: () => void;
  /** Cloud-to-device deliveries: published QoS 1 and waiting for their PUBACK (= complete). */
  c2d?: { stop(): void; inFlight: Map<number, string> };
}

interface PendingMethod {
  resolve(result: { status: number; payload: JsonValue }): void;
  timer: NodeJS.Timeout;
  clientId: string;
}

export interface GatewayOptions {
  registry: Registry;
  sessions: DeviceSessions;
  c2d: CloudToDevice;
  sas: SasContext;
  log?: (line: string) => void;
}

const keyOf = identityKey;

/** A CONNECT refused with this CONNACK return code (5: not authorised). */
class MqttRefusal extends Error {
  constructor(
    readonly returnCode: number,
    message: string,
  ) {
    super(message);
  }
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
  private readonly pendingMethods = new Map<string, PendingMethod>();
  /** Every open socket, authenticated or not, so closing the hub never waits on one. */
  private readonly sockets = new Set<Duplex>();
  private readonly unsubscribe: () => void;

  constructor(private readonly options: GatewayOptions) {
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
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      if (connection) this.disconnected(connection);
    };
    parser.on('packet', (packet: Packet) => {
      try {
        if (!connection) {
          if (packet.cmd !== 'connect') return close();
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
      if (!connection) close();
    }, 60_000);
    connectTimer.unref();
    socket.once('close', () => clearTimeout(connectTimer));
  }

  private send(socket: Duplex, packet: Packet): void {
    if (!socket.destroyed) socket.write(mqtt.generate(packet));
  }

  /** Checks a SAS password for the identity; its expiry, or a refusal with its return code. */
  private sasExpiry(identity: Identity, password: string | undefined): number {
    const principal = verifySasToken(password, this.options.sas);
    const target =
      identity.moduleId === undefined
        ? ['devices', identity.deviceId]
        : ['devices', identity.deviceId, 'modules', identity.moduleId];
    if (!principal.rights.has('DeviceConnect'))
      throw new MqttRefusal(5, `${principal.name} lacks DeviceConnect`);
    if (principal.scope.length === 0 || !scopeCovers(principal.scope, target))
      throw new MqttRefusal(5, 'the token is not scoped to this device or module');
    // A device's own key must not open its modules, nor the other way round.
    if (principal.name.startsWith('device:') && identity.moduleId !== undefined)
      throw new MqttRefusal(5, 'a device key cannot connect a module');
    if (principal.name.startsWith('module:') && principal.name !== `module:${keyOf(identity)}`)
      throw new MqttRefusal(5, 'wrong module key');
    return principal.expiresAt ?? 0;
  }

  private connect(
    socket: Duplex,
    packet: IConnectPacket,
    certificate: ClientCertificate | undefined,
  ): Connection | undefined {
    const refuse = (returnCode: number, why: string) => {
      this.log(`mqtt: refused ${packet.clientId}: ${why}`);
      this.send(socket, { cmd: 'connack', returnCode, sessionPresent: false });
      return undefined;
    };
    if (packet.protocolVersion !== 4) return refuse(1, 'only MQTT 3.1.1 is supported');
    const identity = identityFromClientId(packet.clientId);
    if (!identity) return refuse(2, 'the client id must be <deviceId> or <deviceId>/<moduleId>');
    const password = packet.password?.toString('utf8');
    let expiresAt: number;
    if (password === undefined && certificate) {
      // X.509: no password; the TLS handshake's certificate speaks for the identity.
      const record = this.options.registry.find(identity.deviceId, identity.moduleId);
      if (!record) return refuse(5, 'unknown device or module');
      try {
        expiresAt = authenticateCertificate(record, identity, certificate).expiresAt;
      } catch (error) {
        return refuse(5, error instanceof Error ? error.message : 'bad certificate');
      }
    } else {
      try {
        expiresAt = this.sasExpiry(identity, password);
      } catch (error) {
        return refuse(
          error instanceof MqttRefusal ? error.returnCode : 4,
          error instanceof Error ? error.message : 'bad credentials',
        );
      }
    }
    const device = this.options.registry.find(identity.deviceId);
    const record = this.options.registry.find(identity.deviceId, identity.moduleId);
    if (!device || !record) return refuse(5, 'unknown device or module');
    if (device.status !== 'enabled') return refuse(5, 'the device is disabled');

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
    this.send(socket, { cmd: 'connack', returnCode: 0, sessionPresent });
    this.options.sessions.connected(identity);
    // A persistent session that subscribed before gets what was queued meanwhile, and
    // listens for methods again.
    this.startCloudToDevice(connection);
    this.steerMethods(connection);
    this.log(`mqtt: ${packet.clientId} connected`);
    return connection;
  }

  private disconnected(connection: Connection): void {
    clearTimeout(connection.keepAlive);
    clearTimeout(connection.tokenExpiry);
    connection.stopMethods?.();
    if (connection.c2d) {
      connection.c2d.stop();
      for (const lockToken of connection.c2d.inFlight.values()) this.options.c2d.release(lockToken);
    }
    // Counted once per connection, a replaced one included, so the state ends Disconnected.
    this.options.sessions.disconnected(connection.identity);
    if (this.connections.get(connection.clientId) !== connection) return;
    this.connections.delete(connection.clientId);
    for (const [rid, pending] of this.pendingMethods) {
      if (pending.clientId === connection.clientId) {
        clearTimeout(pending.timer);
        this.pendingMethods.delete(rid);
        pending.resolve({ status: 404, payload: null });
      }
    }
    this.log(`mqtt: ${connection.clientId} disconnected`);
  }

  private onPacket(connection: Connection, packet: Packet, close: () => void): void {
    switch (packet.cmd) {
      case 'subscribe':
        return this.subscribe(connection, packet);
      case 'unsubscribe':
        for (const topic of packet.unsubscriptions) connection.session.subscriptions.delete(topic);
        this.steerMethods(connection);
        return this.send(connection.socket, {
          cmd: 'unsuback',
          messageId: packet.messageId,
          granted: [],
        });
      case 'publish':
        return this.onPublish(connection, packet);
      case 'pingreq':
        return this.send(connection.socket, { cmd: 'pingresp' });
      case 'puback':
        return this.cloudToDeviceAcked(connection, packet.messageId);
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
    this.send(connection.socket, { cmd: 'suback', messageId: packet.messageId, granted });
    this.startCloudToDevice(connection);
    this.steerMethods(connection);
  }

  /**
   * A client listens for direct methods while it is subscribed to them (as IoT Hub sees it:
   * a method sent before the subscription could not reach it), so a call waiting for it to
   * come online is delivered once it can be.
   */
  private steerMethods(connection: Connection): void {
    const subscribed = connection.session.subscriptions.has(METHODS_FILTER);
    if (subscribed && !connection.stopMethods) {
      connection.stopMethods = this.options.sessions.listenForMethods(
        connection.identity,
        (name, payload, timeout) => this.callMethod(connection.clientId, name, payload, timeout),
      );
    } else if (!subscribed && connection.stopMethods) {
      connection.stopMethods();
      delete connection.stopMethods;
    }
  }

  private cloudToDeviceTopic(identity: Identity): string | undefined {
    return identity.moduleId === undefined
      ? `devices/${identity.deviceId}/messages/devicebound/#`
      : undefined;
  }

  /** Starts delivering a device's cloud-to-device queue once it has subscribed to it. */
  private startCloudToDevice(connection: Connection): void {
    const filter = this.cloudToDeviceTopic(connection.identity);
    if (connection.c2d || !filter || !connection.session.subscriptions.has(filter)) return;
    const state = { inFlight: new Map<number, string>(), stop: () => undefined as void };
    connection.c2d = state;
    state.stop = this.options.c2d.onMessage(connection.identity, () =>
      this.pumpCloudToDevice(connection),
    );
    this.pumpCloudToDevice(connection);
  }

  /** Publishes queued messages, a few at a time; each stays locked until its PUBACK. */
  private pumpCloudToDevice(connection: Connection): void {
    const state = connection.c2d;
    const filter = this.cloudToDeviceTopic(connection.identity);
    if (!state || !filter || connection.socket.destroyed) return;
    const qos = connection.session.subscriptions.get(filter) ?? 0;
    while (state.inFlight.size < 10) {
      const next = this.options.c2d.next(connection.identity);
      if (!next) return;
      const messageId = connection.nextPacketId;
      connection.nextPacketId = (connection.nextPacketId % 65535) + 1;
      this.send(connection.socket, {
        cmd: 'publish',
        topic: `devices/${connection.identity.deviceId}/messages/devicebound/${propertyBag(next.message)}`,
        payload: next.message.body,
        qos,
        messageId,
        retain: false,
        dup: false,
      });
      if (qos === 0) this.options.c2d.complete(connection.identity, next.lockToken);
      else state.inFlight.set(messageId, next.lockToken);
    }
  }

  /** A PUBACK completes the message it acknowledges (MQTT has no reject or abandon). */
  private cloudToDeviceAcked(connection: Connection, messageId: number | undefined): void {
    const state = connection.c2d;
    const lockToken = messageId === undefined ? undefined : state?.inFlight.get(messageId);
    if (!state || lockToken === undefined) return;
    state.inFlight.delete(messageId!);
    try {
      this.options.c2d.complete(connection.identity, lockToken);
    } catch {
      // The lock ran out first: the message is queued again and will come once more.
    }
    this.pumpCloudToDevice(connection);
  }

  /** Delivers to a connected client, if it subscribed to a matching filter. */
  private deliver(clientId: string, topic: string, payload: Buffer | string): boolean {
    const connection = this.connections.get(clientId);
    if (!connection) return false;
    const subscribed = [...connection.session.subscriptions.keys()].some((filter) =>
      topicMatches(filter, topic),
    );
    if (!subscribed) return false;
    this.send(connection.socket, {
      cmd: 'publish',
      topic,
      payload,
      qos: 0,
      retain: false,
      dup: false,
    });
    return true;
  }

  private onPublish(connection: Connection, packet: IPublishPacket): void {
    const { identity } = connection;
    const message = classifyPublish(packet.topic, identity);
    const ack = () => {
      if (packet.qos === 1 && packet.messageId !== undefined) {
        this.send(connection.socket, { cmd: 'puback', messageId: packet.messageId });
      }
    };
    this.options.registry.touch(identity.deviceId, identity.moduleId);
    switch (message.kind) {
      case 'twin-get': {
        let topic = `$iothub/twin/res/200/?$rid=${message.rid}`;
        let body: Buffer | string;
        try {
          const record = this.options.registry.get(identity.deviceId, identity.moduleId);
          body = JSON.stringify({
            desired: renderSection(record.twin.desired),
            reported: renderSection(record.twin.reported),
          });
        } catch (error) {
          topic = `$iothub/twin/res/${error instanceof HubError ? error.status : 500}/?$rid=${message.rid}`;
          body = deviceErrorBody(error);
        }
        ack();
        this.deliver(connection.clientId, topic, body);
        return;
      }
      case 'twin-reported': {
        let topic: string;
        let body: Buffer | string = '';
        try {
          const deep = jsonNestingBeyond(packet.payload);
          if (deep) throw new HubError('ArgumentInvalid', jsonNestingMessage(deep.position));
          const patch = parseReportedPatch(parseJson(packet.payload.toString('utf8')));
          const record = this.options.registry.patchReported(
            identity.deviceId,
            identity.moduleId,
            patch,
          );
          topic = `$iothub/twin/res/204/?$rid=${message.rid}&$version=${record.twin.reported.version}`;
        } catch (error) {
          const hubError =
            error instanceof SyntaxError
              ? new HubError('ArgumentInvalid', 'The reported patch is not valid JSON.')
              : error;
          topic = `$iothub/twin/res/${hubError instanceof HubError ? hubError.status : 500}/?$rid=${message.rid}`;
          body = deviceErrorBody(hubError);
        }
        ack();
        this.deliver(connection.clientId, topic, body);
        return;
      }
      case 'method-response': {
        ack();
        const pending = this.pendingMethods.get(message.rid);
        if (!pending || pending.clientId !== connection.clientId) return;
        this.pendingMethods.delete(message.rid);
        clearTimeout(pending.timer);
        let payload: JsonValue;
        const text = packet.payload.toString('utf8');
        try {
          // Nested past what can be sent on safely: passed on as the text it is.
          payload = text && !jsonNestingBeyond(text) ? parseJson(text) : text || null;
        } catch {
          payload = text;
        }
        pending.resolve({ status: message.status, payload });
        return;
      }
      case 'telemetry':
        this.options.registry.recordMessage(
          identity.deviceId,
          identity.moduleId,
          Buffer.from(packet.payload),
          Object.fromEntries(message.properties),
        );
        ack();
        return;
      default:
        this.log(
          `mqtt: ${connection.clientId} published to ${packet.topic}, which IoT Hub does not accept`,
        );
        connection.socket.destroy();
    }
  }

  /** Desired-property notifications go to the identity's connected client. */
  private onChange(event: ChangeEvent): void {
    if (!event.desiredPatch) return;
    const version = event.desiredPatch['$version'];
    const clientId = keyOf({
      deviceId: event.deviceId,
      ...(event.moduleId !== undefined ? { moduleId: event.moduleId } : {}),
    });
    this.deliver(
      clientId,
      `$iothub/twin/PATCH/properties/desired/?$version=${version}`,
      JSON.stringify(event.desiredPatch),
    );
  }

  /**
   * A direct method to one connected client: 404 DeviceNotOnline when it does not listen for
   * methods, 504 when it does not answer within `responseTimeoutSeconds`.
   */
  private callMethod(
    clientId: string,
    methodName: string,
    payload: JsonValue,
    responseTimeoutSeconds: number,
  ) {
    const rid = randomUUID();
    return new Promise<{ status: number; payload: JsonValue }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingMethods.delete(rid);
        reject(
          new HubError(
            'GatewayTimeout',
            `${clientId} did not answer ${methodName} within ${responseTimeoutSeconds} s.`,
          ),
        );
      }, responseTimeoutSeconds * 1000);
      this.pendingMethods.set(rid, { resolve, timer, clientId });
      const sent = this.deliver(
        clientId,
        `$iothub/methods/POST/${encodeURIComponent(methodName)}/?$rid=${rid}`,
        JSON.stringify(payload ?? null),
      );
      if (!sent) {
        clearTimeout(timer);
        this.pendingMethods.delete(rid);
        reject(
          new HubError(
            'DeviceNotOnline',
            `${clientId} is not connected, or does not listen for direct methods.`,
          ),
        );
      }
    });
  }

  close(): void {
    this.unsubscribe();
    for (const socket of this.sockets) socket.destroy();
    for (const connection of this.connections.values()) connection.socket.destroy();
    for (const pending of this.pendingMethods.values()) clearTimeout(pending.timer);
  }
}

/**
 * A cloud-to-device message's properties as IoT Hub puts them in the topic: system
 * properties as `$.mid` and friends, then the application's, every key and value
 * percent-encoded (the SDK reads the whole bag as one topic segment).
 */
function propertyBag(message: CloudMessage): string {
  const pairs: [string, string | undefined][] = [
    ['$.mid', message.messageId],
    ['$.to', `/devices/${message.deviceId}/messages/devicebound`],
    ['$.exp', new Date(message.expiryTime).toISOString()],
    ['$.cid', message.correlationId],
    ['$.uid', message.userId],
    ['$.ct', message.contentType],
    ['$.ce', message.contentEncoding],
    // Only when feedback was asked for: with `none` IoT Hub sends no iothub-ack (the SDK would
    // hand it to the app as a user property; Microsoft's device_service.js checks there is none).
    ['iothub-ack', message.ack === 'none' ? undefined : message.ack],
    ...Object.entries(message.properties),
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}
