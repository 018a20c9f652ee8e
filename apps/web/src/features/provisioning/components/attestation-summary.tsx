import { Badge } from '@fluentui/react-components';
import type { AttestationView, CertificateInfo } from '@twinscope/contract';
import { ATTESTATION, certificateLine, expiryOf } from '../enrollment-text.ts';

/** A certificate's expiry when it needs attention (expired, or within 30 days). */
export function ExpiryBadge({ certificate }: { certificate: CertificateInfo }) {
  const expiry = expiryOf(certificate);
  if (expiry === 'expired')
    return (
      <Badge color="danger" appearance="tint" size="small">
        expired
      </Badge>
    );
  if (expiry === 'soon')
    return (
      <Badge color="warning" appearance="tint" size="small">
        expires soon
      </Badge>
    );
  return null;
}

/** How devices prove who they are, in a table cell: the type, and X.509 certificates' subjects. */
export function AttestationSummary({ attestation }: { attestation: AttestationView }) {
  return (
    <>
      {ATTESTATION[attestation.type]}
      {attestation.type === 'x509' && (
        <ul className="change-lines">
          {attestation.certificates.map((certificate) => (
            <li key={certificate.slot} title={certificate.issuerName}>
              {certificate.slot === 'secondary' ? 'Secondary: ' : ''}
              {certificateLine(certificate)} <ExpiryBadge certificate={certificate} />
            </li>
          ))}
          {attestation.caReferences.map((name) => (
            <li key={name}>CA certificate {name} (held by DPS)</li>
          ))}
        </ul>
      )}
    </>
  );
}
