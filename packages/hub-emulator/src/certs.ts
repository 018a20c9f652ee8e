// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect API.
import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { keepPrivate, writePrivateFile } from './store/private-files.ts';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
  /** Where the CA certificate is on disk, when the emulator has a data dir. */
  caCertFile?: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('empty private key');
  return (await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign'])) as CryptoKey;
}

/** A certificate authority: its certificate and signing key. */
export interface CertificateAuthority {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** A new self-signed CA (ECDSA P-256, ten years) that may sign leaf certificates. */
export async function createCa(
  name = 'Twinscope IoT Hub Emulator CA',
): Promise<CertificateAuthority> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name: `CN=${name}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey };
}

async function createServerCert(
  ca: CertificateAuthority,
  hostName: string,
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const now = Date.now();
  // An IP host is named as an IP and as a DNS name: current SDKs match IP names for an IP
  // literal, older C SDK releases (OpenSSL set1_host only) a DNS name spelled the same way.
  const names: { type: 'dns' | 'ip'; value: string }[] = isIP(hostName)
    ? [
        { type: 'ip', value: hostName },
        { type: 'dns', value: hostName },
      ]
    : [{ type: 'dns', value: hostName }];
  if (hostName !== 'localhost') names.push({ type: 'dns', value: 'localhost' });
  for (const ip of ['127.0.0.1', '::1']) if (ip !== hostName) names.push({ type: 'ip', value: ip });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (Date.now() + 1).toString(16),
    subject: `CN=${hostName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 825 * DAY),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

function covers(certPem: string, hostName: string): boolean {
  const cert = new X509Certificate(certPem);
  const valid = Date.parse(cert.validTo) > Date.now() + DAY;
  const matches = isIP(hostName)
    ? cert.checkIP(hostName) !== undefined &&
      (cert.subjectAltName ?? '').split(', ').includes(`DNS:${hostName}`)
    : cert.checkHost(hostName) !== undefined;
  return valid && matches;
}

/**
 * The CA and server certificate for HTTPS (and later MQTT). With a directory they are made
 * once and kept, so clients can keep trusting the CA across restarts; the server
 * certificate is remade when the host name changes.
 */
export async function loadOrCreateTls(hostName: string, directory?: string): Promise<TlsMaterial> {
  if (!directory) {
    const ca = await createCa();
    const server = await createServerCert(ca, hostName);
    return { caCert: ca.cert.toString('pem'), ...server };
  }
  mkdirSync(directory, { recursive: true });
  const files = {
    caCert: join(directory, 'ca.pem'),
    caKey: join(directory, 'ca-key.pem'),
    cert: join(directory, 'server.pem'),
    key: join(directory, 'server-key.pem'),
  };
  let ca: CertificateAuthority;
  if (existsSync(files.caCert) && existsSync(files.caKey)) {
    ca = {
      cert: new x509.X509Certificate(readFileSync(files.caCert, 'utf8')),
      key: await importKey(readFileSync(files.caKey, 'utf8')),
    };
  } else {
    ca = await createCa();
    writePrivateFile(files.caKey, await exportKey(ca.key));
    writeFileSync(files.caCert, ca.cert.toString('pem'));
  }
  if (
    !existsSync(files.cert) ||
    !existsSync(files.key) ||
    !covers(readFileSync(files.cert, 'utf8'), hostName)
  ) {
    const server = await createServerCert(ca, hostName);
    writePrivateFile(files.key, server.key);
    writeFileSync(files.cert, server.cert);
  }
  keepPrivate(files.caKey);
  keepPrivate(files.key);
  return {
    caCert: readFileSync(files.caCert, 'utf8'),
    cert: readFileSync(files.cert, 'utf8'),
    key: readFileSync(files.key, 'utf8'),
    caCertFile: files.caCert,
  };
}
