// The Device Provisioning Service over MQTT (and MQTT over WebSockets), on the hub's MQTT
// listeners: a client whose CONNECT username is `{idScope}/registrations/{registrationId}/…`
// is a device registering, not a device of the hub. It subscribes to
// `$dps/registrations/res/#`, publishes `$dps/registrations/PUT/iotdps-register/?$rid=…` and
// `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=…&operationId=…`, and is answered
// on `$dps/registrations/res/{status}/?$rid=…&retry-after=…`.
import type { Duplex } from 'node:stream';
import mqtt, { type IConnectPacket, type Packet } from 'mqtt-packet';
import type { ClientCertificate } from '../auth/x509.ts';
import {
  asProvisioningError,
  ProvisioningError,
  registrationPayload,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
import type { DeviceCredential, Provisioning } from './provisioning.ts';

/** `{idScope}/registrations/{registrationId}/api-version=…` (the rest: client details). */
const USERNAME = /^([^/]+)\/registrations\/([^/]+)\/(?:api-version=|\?|$)/;

/**
 * Whether a CONNECT is a device registering in this id scope (a hub module of a device named
 * "registrations" has a user name of the same shape, under the hub's host name).
 */
export function isProvisioningConnect(packet: IConnectPacket, idScope: string): boolean {
  const scope = USERNAME.exec(packet.username ?? '')?.[1];
  return scope !== undefined && scope.toLowerCase() === idScope.toLowerCase();
}

const REGISTER = /^\$dps\/registrations\/PUT\/iotdps-register\/\?(.*)$/;
const STATUS = /^\$dps\/registrations\/GET\/iotdps-get-operationstatus\/\?(.*)$/;

/** One registering device's MQTT connection. */
export class ProvisioningMqttSession {
  private nextMessageId = 1;

  /** Closes a client that says nothing for 1.5 keep-alive periods (60 s without one). */
  private readonly idle: NodeJS.Timeout;

  private constructor(
    private readonly socket: Duplex,
    private readonly provisioning: Provisioning,
    private readonly registrationId: string,
    private readonly credential: DeviceCredential,
    private readonly log: (line: string) => void,
    keepAliveSeconds: number,
    close: () => void,
  ) {
    this.idle = setTimeout(close, (keepAliveSeconds > 0 ? keepAliveSeconds * 1.5 : 60) * 1000);
    this.idle.unref();
    socket.once('close', () => clearTimeout(this.idle));
  }

  /**
   * Answers CONNECT: accepted when the id scope is this service's and the credential is one
   * an enrollment vouches for (checked again at each request, as tokens expire); otherwise
   * refused with "not authorized" and undefined.
   */
  static connect(
    socket: Duplex,
    packet: IConnectPacket,
    certificate: ClientCertificate | undefined,
    provisioning: Provisioning,
    log: (line: string) => void,
    close: () => void,
  ): ProvisioningMqttSession | undefined {
    const [, scope, registrationId] = USERNAME.exec(packet.username ?? '')!;
    const password = packet.password?.toString('utf8');
    const credential: DeviceCredential = password
      ? { kind: 'sas', token: password }
      : certificate
        ? { kind: 'x509', chain: certificate.chain }
        : { kind: 'none' };
    try {
      if (scope!.toLowerCase() !== provisioning.idScope.toLowerCase())
        throw new ProvisioningError(
          401,
          401002,
          `the id scope ${scope} is not this provisioning service's`,
        );
      provisioning.checkCredential(registrationId!, credential);
    } catch (error) {
      log(`mqtt (provisioning): refused ${registrationId}: ${(error as Error).message}`);
      // 5: not authorized (a bad scope or credential), as the service answers.
      socket.write(mqtt.generate({ cmd: 'connack', returnCode: 5, sessionPresent: false }));
      return undefined;
    }
    socket.write(mqtt.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
    return new ProvisioningMqttSession(
      socket,
      provisioning,
      registrationId!,
      credential,
      log,
      packet.keepalive ?? 0,
      close,
    );
  }

  onPacket(packet: Packet, close: () => void): void {
    this.idle.refresh();
    switch (packet.cmd) {
      case 'subscribe':
        this.socket.write(
          mqtt.generate({
            cmd: 'suback',
            messageId: packet.messageId,
            granted: packet.subscriptions.map((s) =>
              s.topic === '$dps/registrations/res/#' ? Math.min(s.qos, 1) : 128,
            ),
          }),
        );
        return;
      case 'publish':
        if (packet.qos === 1)
          this.socket.write(mqtt.generate({ cmd: 'puback', messageId: packet.messageId! }));
        this.request(packet.topic, packet.payload);
        return;
      case 'pingreq':
        this.socket.write(mqtt.generate({ cmd: 'pingresp' }));
        return;
      case 'disconnect':
        return close();
      case 'unsubscribe':
        this.socket.write(
          mqtt.generate({ cmd: 'unsuback', messageId: packet.messageId!, granted: [] }),
        );
        return;
      case 'puback':
        return;
      default:
        this.log(`mqtt (provisioning): ${this.registrationId} sent ${packet.cmd}; closing`);
        close();
    }
  }

  private request(topic: string, payload: Buffer | string): void {
    const register = REGISTER.exec(topic);
    const status = register ? undefined : STATUS.exec(topic);
    const queryText = (register ?? status)?.[1] ?? '';
    const query = new URLSearchParams(queryText);
    // Echoed as the client wrote it: decoded, a `#` or `&` would change the answer's topic.
    const rid = /(?:^|&)\$rid=([^&]*)/.exec(queryText)?.[1] ?? '';
    try {
      if (register) {
        const started = this.provisioning.register(
          this.registrationId,
          this.credential,
          registrationPayload(payload.toString()),
        );
        this.respond(202, rid, started, RETRY_AFTER_SECONDS);
      } else if (status) {
        const result = this.provisioning.operationStatus(
          this.registrationId,
          query.get('operationId') ?? '',
          this.credential,
        );
        this.respond(result.status === 'assigning' ? 202 : 200, rid, result);
      } else {
        throw new ProvisioningError(400, 400004, `The provisioning service has no topic ${topic}.`);
      }
    } catch (caught) {
      const error = asProvisioningError(caught);
      this.respond(error.status, rid, error.body(), error.retryAfter);
    }
  }

  private respond(status: number, rid: string, body: object, retryAfter?: number): void {
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId % 65535) + 1;
    this.socket.write(
      mqtt.generate({
        cmd: 'publish',
        topic: `$dps/registrations/res/${status}/?$rid=${rid}${retryAfter !== undefined ? `&retry-after=${retryAfter}` : ''}`,
        payload: Buffer.from(JSON.stringify(body)),
        qos: 1,
        messageId,
        retain: false,
        dup: false,
      }),
    );
  }
}
