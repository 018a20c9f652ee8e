/** Who a CONNECT speaks for, and whether IoT Hub would let it in. */
import type { IConnectPacket } from 'mqtt-packet';
import { verifySasToken, scopeCovers, type SasContext } from '../auth/sas.ts';
import { authenticateCertificate, type ClientCertificate } from '../auth/x509.ts';
import { refusalToActAs, refusalToConnect } from '../devices/connect-rules.ts';
import type { Registry } from '../store/registry.ts';
import { identityFromClientId, type Identity } from './topics.ts';

/** Admitted with the time its credential runs out (0: never), or refused with a CONNACK code. */
export type ConnectVerdict =
  | { admitted: true; identity: Identity; expiresAt: number }
  | { admitted: false; returnCode: number; reason: string };

/** A CONNECT refused with this CONNACK return code (5: not authorised). */
class MqttRefusal extends Error {
  constructor(
    readonly returnCode: number,
    message: string,
  ) {
    super(message);
  }
}

const refused = (returnCode: number, reason: string): ConnectVerdict => ({
  admitted: false,
  returnCode,
  reason,
});

export function authenticateConnect(
  packet: IConnectPacket,
  certificate: ClientCertificate | undefined,
  registry: Registry,
  sas: SasContext,
): ConnectVerdict {
  if (packet.protocolVersion !== 4) return refused(1, 'only MQTT 3.1.1 is supported');
  const identity = identityFromClientId(packet.clientId);
  if (!identity) return refused(2, 'the client id must be <deviceId> or <deviceId>/<moduleId>');
  const password = packet.password?.toString('utf8');
  let expiresAt: number;
  if (password === undefined && certificate) {
    // X.509: no password; the TLS handshake's certificate speaks for the identity.
    const record = registry.find(identity.deviceId, identity.moduleId);
    if (!record) return refused(5, 'unknown device or module');
    try {
      expiresAt = authenticateCertificate(record, identity, certificate).expiresAt;
    } catch (error) {
      return refused(5, error instanceof Error ? error.message : 'bad certificate');
    }
  } else {
    try {
      expiresAt = sasExpiry(identity, password, sas);
    } catch (error) {
      return refused(
        error instanceof MqttRefusal ? error.returnCode : 4,
        error instanceof Error ? error.message : 'bad credentials',
      );
    }
  }
  const cannot = refusalToConnect(registry, identity);
  if (cannot) return refused(5, cannot.reason);
  return { admitted: true, identity, expiresAt };
}

/** Checks a SAS password for the identity; its expiry, or a refusal with its return code. */
function sasExpiry(identity: Identity, password: string | undefined, sas: SasContext): number {
  const principal = verifySasToken(password, sas);
  const target =
    identity.moduleId === undefined
      ? ['devices', identity.deviceId]
      : ['devices', identity.deviceId, 'modules', identity.moduleId];
  const refusal = refusalToActAs(principal, identity);
  if (refusal) throw new MqttRefusal(5, refusal);
  if (principal.scope.length === 0 || !scopeCovers(principal.scope, target))
    throw new MqttRefusal(5, 'the token is not scoped to this device or module');
  return principal.expiresAt ?? 0;
}
