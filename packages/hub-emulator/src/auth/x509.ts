import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Identity } from '../devices/device-sessions.ts';
import { HubError } from '../errors.ts';
import type { IdentityRecord } from '../store/model.ts';

/**
 * The certificate a client presented in its TLS handshake, as the hub judges it: both
 * thumbprints (a registered thumbprint may be SHA-1 or SHA-256), the subject's common name,
 * its validity, and whether its chain verified up to a CA the hub trusts (`--ca-cert`).
 */
export interface ClientCertificate {
  sha1: string;
  sha256: string;
  commonName: string | undefined;
  validFrom: number;
  validTo: number;
  /** The chain ends at a trusted CA (TLS verified it against the hub's CA list). */
  chainTrusted: boolean;
  /** Why the chain did not verify, as TLS put it (e.g. UNABLE_TO_GET_ISSUER_CERT). */
  chainError?: string;
  /**
   * The certificates as the client sent them, leaf first: the provisioning service checks
   * a group's chain itself (the hub's TLS trusts only the hub's CAs).
   */
  chain: X509Certificate[];
}

const hex = (fingerprint: string) => fingerprint.replaceAll(':', '').toUpperCase();

/**
 * What a TLS server needs to ask for client certificates without demanding them (SAS
 * clients send none) and to verify chains only against the CAs the hub trusts: with no
 * `--ca-cert`, an empty list, so no public CA vouches for a device.
 */
export function clientCertificateRequest(trustedCas: readonly string[]) {
  return { requestCert: true, rejectUnauthorized: false, ca: [...trustedCas] };
}

/** The certificate on a TLS socket, or undefined when the client sent none. */
export function clientCertificateOf(socket: TLSSocket): ClientCertificate | undefined {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return undefined;
  const certificate = new X509Certificate(peer.raw);
  const chain = [certificate];
  const seen = new Set([peer.fingerprint256]);
  for (
    let at = peer.issuerCertificate;
    at?.raw && !seen.has(at.fingerprint256);
    at = at.issuerCertificate
  ) {
    seen.add(at.fingerprint256);
    chain.push(new X509Certificate(at.raw));
  }
  const commonName = /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1];
  const error = socket.authorizationError;
  return {
    sha1: hex(certificate.fingerprint),
    sha256: hex(certificate.fingerprint256),
    commonName,
    validFrom: Date.parse(certificate.validFrom),
    validTo: Date.parse(certificate.validTo),
    chainTrusted: socket.authorized,
    ...(error ? { chainError: String(error) } : {}),
    chain,
  };
}

const describe = (identity: Identity) =>
  identity.moduleId === undefined
    ? `device ${identity.deviceId}`
    : `module ${identity.deviceId}/${identity.moduleId}`;

/**
 * Whether a client certificate authenticates this device or module, as IoT Hub decides:
 * self-signed identities by the primary or secondary thumbprint, CA-signed devices by a
 * chain to a trusted CA with the device id as common name. Returns when the
 * authentication lapses (the certificate's end); throws IotHubUnauthorizedAccess otherwise.
 */
export function authenticateCertificate(
  record: IdentityRecord,
  identity: Identity,
  certificate: ClientCertificate,
  now: number = Date.now(),
): { expiresAt: number } {
  const refuse = (why: string): never => {
    throw new HubError(
      'IotHubUnauthorizedAccess',
      `X.509 authentication of ${describe(identity)} failed: ${why}`,
    );
  };
  if (now < certificate.validFrom) refuse('the certificate is not valid yet.');
  if (now >= certificate.validTo) refuse('the certificate has expired.');
  const { type, x509Thumbprint } = record.authentication;
  if (type === 'selfSigned') {
    const registered = [x509Thumbprint.primaryThumbprint, x509Thumbprint.secondaryThumbprint]
      .filter((print): print is string => !!print)
      .map((print) => print.toUpperCase());
    if (!registered.some((print) => print === certificate.sha1 || print === certificate.sha256))
      refuse('the certificate matches neither registered thumbprint.');
  } else if (type === 'certificateAuthority') {
    if (identity.moduleId !== undefined)
      refuse('the emulator supports CA-signed certificates for devices, not modules.');
    if (!certificate.chainTrusted) {
      refuse(
        `the certificate does not chain to a CA the hub trusts (${certificate.chainError ?? 'untrusted'}); give the CA with --ca-cert.`,
      );
    }
    if (certificate.commonName !== identity.deviceId)
      refuse(
        `the certificate's common name is '${certificate.commonName ?? ''}', not the device id.`,
      );
  } else {
    refuse(
      `it authenticates with ${type === 'sas' ? 'shared access keys' : 'no credentials'}, not a certificate.`,
    );
  }
  return { expiresAt: certificate.validTo };
}
