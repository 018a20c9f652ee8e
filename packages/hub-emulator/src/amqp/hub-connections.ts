import { isModelId, modelIdOfLink } from '../devices/model-id.ts';
import type { Receiver, Sender } from 'rhea';
import { verifySasToken, type Principal, type SasContext } from '../auth/sas.ts';
import { authenticateCertificate } from '../auth/x509.ts';
import { identityKey, type DeviceSessions, type Identity } from '../devices/device-sessions.ts';
import { refusalToActAs, refusalToConnect } from '../devices/connect-rules.ts';
import { asHubError } from '../errors.ts';
import type { Registry } from '../store/registry.ts';
import { scopeOf } from './addresses.ts';
import { CONDITION, type AmqpConnection, type Grant, type PutToken } from './connection.ts';
import { AmqpRefusal } from './links.ts';

/** The link checks every device, module and service route makes. */
export interface LinkAuthority {
  /** Checks the identity exists, is enabled and that this connection may act as it. */
  authorizeDevice(link: Sender | Receiver, identity: Identity, connection: AmqpConnection): void;
  /** Checks this connection holds a service token (ServiceConnect) for the whole hub. */
  authorizeService(link: Sender | Receiver, connection: AmqpConnection): void;
}

/** Whether a grant lets its holder act as this device or module (the rule every transport applies). */
const actsAs = (identity: Identity) => (grant: Grant) =>
  refusalToActAs({ name: grant.subject, rights: grant.rights }, identity) === undefined;

/**
 * Who an IoT Hub AMQP connection speaks for: the tokens it put (`$cbs`) or logged in with
 * (SASL PLAIN), the certificate it presented (X.509), and the devices and modules that makes
 * connected, as IoT Hub reports them, until the connection ends.
 */
export class HubConnections implements LinkAuthority {
  /** Identities each connection authenticated (connected while it lasts). */
  private readonly identities = new WeakMap<AmqpConnection, Map<string, Identity>>();

  constructor(
    private readonly options: {
      registry: Registry;
      sessions: DeviceSessions;
      sas: SasContext;
      /** The hub's name (the first label of its host name). */
      hubName: string;
    },
  ) {}

  /** A `$cbs` put-token: a device, module or policy SAS token, checked and scoped. */
  putToken(request: PutToken): Grant {
    const principal: Principal = verifySasToken(request.token, this.options.sas);
    const [devices, deviceId] = principal.scope;
    const device =
      devices === 'devices' && deviceId ? this.options.registry.find(deviceId) : undefined;
    if (device && device.status !== 'enabled') throw new Error(`Device ${deviceId} is disabled.`);
    return {
      audience: principal.scope.join('/'),
      expiresAt: principal.expiresAt ?? 0,
      rights: principal.rights,
      subject: principal.name,
    };
  }

  /**
   * SASL PLAIN as the C service client sends it: user `<policy>@sas.root.<hub>`, a policy's
   * SAS token for the whole hub as the password, checked like a put-token for that policy.
   */
  plain(username: string, password: string): Grant {
    const { hubName } = this.options;
    const named = /^([^@]+)@sas\.root\.(.+)$/.exec(username);
    if (!named || named[2]!.toLowerCase() !== hubName.toLowerCase())
      throw new Error(`The user is <policy>@sas.root.${hubName}, not ${username}.`);
    const grant = this.putToken({
      type: 'servicebus.windows.net:sastoken',
      name: '',
      token: password,
    });
    if (grant.subject !== named[1])
      throw new Error(`The token is ${grant.subject ?? "a device's"}, not policy ${named[1]}'s.`);
    return grant;
  }

  authorizeDevice(link: Sender | Receiver, identity: Identity, connection: AmqpConnection): void {
    const { registry } = this.options;
    const accept = actsAs(identity);
    if (!connection.authorized(scopeOf(identity), accept) && connection.certificate)
      this.authenticateByCertificate(identity, connection);
    if (!connection.authorized(scopeOf(identity), accept)) {
      throw new AmqpRefusal(
        CONDITION.unauthorized,
        `Unauthorized access to ${identityKey(identity)}: put a token for it on $cbs first.`,
      );
    }
    const cannot = refusalToConnect(registry, identity);
    if (cannot)
      throw new AmqpRefusal(
        cannot.kind === 'not-registered' ? CONDITION.notFound : CONDITION.unauthorized,
        `${cannot.reason[0]!.toUpperCase()}${cannot.reason.slice(1)}.`,
      );
    connection.guard(link, scopeOf(identity), accept);
    this.connected(identity, connection);
    const modelId = modelIdOfLink(link as never);
    if (modelId !== undefined && isModelId(modelId))
      registry.announceModel(identity.deviceId, identity.moduleId, modelId);
  }

  authorizeService(link: Sender | Receiver, connection: AmqpConnection): void {
    const accept = (grant: Grant) => grant.rights?.has('ServiceConnect') === true;
    if (!connection.authorized('', accept)) {
      throw new AmqpRefusal(
        CONDITION.unauthorized,
        'This link needs a token of a policy with ServiceConnect for the hub.',
      );
    }
    connection.guard(link, '', accept);
  }

  /** A put-token for a device or module: it is connected from now on (as IoT Hub reports). */
  granted(grant: Grant, connection: AmqpConnection): void {
    const [devices, deviceId, modules, moduleId] = grant.audience.split('/');
    if (devices !== 'devices' || !deviceId || !grant.rights?.has('DeviceConnect')) return;
    const identity: Identity =
      modules === 'modules' && moduleId ? { deviceId, moduleId } : { deviceId };
    if (!this.options.registry.find(deviceId, identity.moduleId)) return;
    this.connected(identity, connection);
  }

  /** The connection is gone: everything it spoke for is disconnected. */
  ended(connection: AmqpConnection): void {
    const identities = this.identities.get(connection);
    if (!identities) return;
    this.identities.delete(connection);
    for (const identity of identities.values()) this.options.sessions.disconnected(identity);
  }

  private connected(identity: Identity, connection: AmqpConnection): void {
    let identities = this.identities.get(connection);
    if (!identities) {
      identities = new Map();
      this.identities.set(connection, identities);
    }
    if (identities.has(identityKey(identity))) return;
    identities.set(identityKey(identity), identity);
    this.options.sessions.connected(identity);
  }

  /**
   * X.509: no `$cbs`; the connection's TLS certificate speaks for the identity the link
   * names, for as long as the certificate is valid (a grant like a token's).
   */
  private authenticateByCertificate(identity: Identity, connection: AmqpConnection): void {
    const record = this.options.registry.find(identity.deviceId, identity.moduleId);
    if (!record) return;
    try {
      const { expiresAt } = authenticateCertificate(record, identity, connection.certificate!);
      connection.grant({
        audience: scopeOf(identity),
        expiresAt,
        rights: new Set(['DeviceConnect']),
        subject:
          identity.moduleId === undefined
            ? `device:${identity.deviceId}`
            : `module:${identityKey(identity)}`,
      });
    } catch (error) {
      throw new AmqpRefusal(CONDITION.unauthorized, asHubError(error).message);
    }
  }
}
