// @peculiar/x509 needs the Reflect API before it loads (see certs.ts).
import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createCa, exportKey, type CertificateAuthority } from '../certs.ts';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

/** A device's certificate and key (PEM) as the SDKs take them, with its thumbprints. */
export interface DeviceCertificate {
  cert: string;
  key: string;
  /** SHA-1 thumbprint in hex, as the portal and `pem.getFingerprint` print it. */
  sha1: string;
  sha256: string;
}

export { createCa };
export type { CertificateAuthority };

let serial = Date.now();

/**
 * A client certificate for `commonName`: self-signed, or issued by `ca`. `expired` makes
 * one that ended yesterday.
 */
export async function deviceCertificate(
  commonName: string,
  options: { ca?: CertificateAuthority; expired?: boolean } = {},
): Promise<DeviceCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const now = Date.now();
  const validity = options.expired
    ? { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) }
    : { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  const extensions = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ];
  const cert = options.ca
    ? await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16),
        subject: `CN=${commonName}`,
        issuer: options.ca.cert.subject,
        ...validity,
        signingKey: options.ca.key,
        publicKey: keys.publicKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          ...extensions,
          await x509.AuthorityKeyIdentifierExtension.create(options.ca.cert),
        ],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: (serial++).toString(16),
        name: `CN=${commonName}`,
        ...validity,
        keys,
        signingAlgorithm: ALGORITHM,
        extensions,
      });
  const pem = cert.toString('pem');
  const parsed = new X509Certificate(pem);
  return {
    cert: pem,
    key: await exportKey(keys.privateKey),
    sha1: parsed.fingerprint.replaceAll(':', ''),
    sha256: parsed.fingerprint256.replaceAll(':', ''),
  };
}

/**
 * An intermediate CA issued by `issuer`, for chains a device sends (leaf, intermediate).
 * `notCa`: the same certificate without the CA constraint, as a device's own leaf is (its
 * key can sign, but nothing it signs is vouched for).
 */
export async function intermediateCa(
  name: string,
  issuer: CertificateAuthority,
  options: { notCa?: boolean } = {},
): Promise<CertificateAuthority & { pem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16),
    subject: `CN=${name}`,
    issuer: issuer.cert.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    signingKey: issuer.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      ...(options.notCa
        ? [new x509.BasicConstraintsExtension(false, undefined, true)]
        : [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(
              x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
              true,
            ),
          ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
    ],
  });
  return { cert, key: keys.privateKey, pem: cert.toString('pem') };
}
