import { Checkbox, Field, Radio, RadioGroup, Text, Textarea } from '@fluentui/react-components';
import type { CertificateInfo, Enrollment, EnrollmentKind } from '@twinscope/contract';
import type { AttestationType, EnrollmentForm, FormField } from '../enrollment-form.ts';
import { ATTESTATION } from '../enrollment-text.ts';
import { ExpiryBadge } from './attestation-summary.tsx';

export interface FieldProps {
  kind: EnrollmentKind;
  form: EnrollmentForm;
  /** The enrollment being changed; none when creating one. */
  editing: Enrollment | undefined;
  disabled: boolean;
  /** The message for a field, when the last Save found it wrong. */
  problemOf(field: FormField): string | undefined;
  onChange(patch: Partial<EnrollmentForm>): void;
}

const validation = (message: string | undefined) =>
  message ? { validationMessage: message, validationState: 'error' as const } : {};

/** The PEM certificates of an X.509 enrollment: a group's signing CA, or the device's own. */
function CertificateFields({ kind, form, disabled, problemOf, onChange }: FieldProps) {
  return (
    <>
      <Field
        label="Primary certificate"
        required
        hint={
          kind === 'group'
            ? 'PEM of the CA (root or intermediate) that signs the devices’ certificates.'
            : 'PEM of the device’s own certificate: its subject CN is the registration id.'
        }
        {...validation(problemOf('primaryCertificate'))}
      >
        <Textarea
          className="mono"
          rows={5}
          value={form.primaryCertificate}
          disabled={disabled}
          placeholder="-----BEGIN CERTIFICATE-----"
          onChange={(_e, d) => onChange({ primaryCertificate: d.value })}
        />
      </Field>
      <Field
        label="Secondary certificate"
        hint="Optional: a second certificate, to roll the first over without downtime."
        {...validation(problemOf('secondaryCertificate'))}
      >
        <Textarea
          className="mono"
          rows={3}
          value={form.secondaryCertificate}
          disabled={disabled}
          placeholder="-----BEGIN CERTIFICATE-----"
          onChange={(_e, d) => onChange({ secondaryCertificate: d.value })}
        />
      </Field>
    </>
  );
}

const day = (iso: string) => new Date(iso).toLocaleDateString();

/** When a certificate is valid, as far as DPS said. */
function validity({ notBeforeUtc: from, notAfterUtc: until }: CertificateInfo): string {
  if (from && until) return `${day(from)} to ${day(until)}`;
  if (until) return `until ${day(until)}`;
  return from ? `from ${day(from)}` : '—';
}

/** An existing enrollment's attestation: what DPS holds, read-only (keys never shown). */
function CurrentAttestation({ enrollment }: { enrollment: Enrollment }) {
  const attestation = enrollment.attestation;
  if (attestation.type === 'symmetricKey')
    return (
      <Text>
        Symmetric key <span className="muted">(the keys are held by DPS and never shown)</span>
      </Text>
    );
  if (attestation.type === 'tpm') return <Text>TPM endorsement key</Text>;
  return (
    <div className="form-grid">
      <Text>X.509 certificates</Text>
      <table className="kv-table" aria-label="Certificates" data-testid="certificates">
        <thead>
          <tr>
            <th scope="col">Certificate</th>
            <th scope="col">Subject</th>
            <th scope="col">Issuer</th>
            <th scope="col">Valid</th>
            <th scope="col">SHA-256 thumbprint</th>
          </tr>
        </thead>
        <tbody>
          {attestation.certificates.map((c) => (
            <tr key={c.slot}>
              <td>{c.slot === 'primary' ? 'Primary' : 'Secondary'}</td>
              <td>{c.subjectName ?? '—'}</td>
              <td>{c.issuerName ?? '—'}</td>
              <td>
                {validity(c)} <ExpiryBadge certificate={c} />
              </td>
              <td className="mono-cell">{c.sha256Thumbprint ?? c.sha1Thumbprint ?? '—'}</td>
            </tr>
          ))}
          {attestation.caReferences.map((name) => (
            <tr key={name}>
              <td>CA reference</td>
              <td colSpan={4}>{name} (a certificate held in DPS’s certificate store)</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * How devices prove who they are. Creating: symmetric key (DPS makes the keys), X.509 (PEM
 * certificates) or, for an individual enrollment, TPM. Changing: the attestation as DPS
 * holds it, and for X.509 the way to give new certificates.
 */
export function AttestationFields(props: FieldProps) {
  const { kind, form, editing, disabled, problemOf, onChange } = props;
  if (editing)
    return (
      <>
        <div className="field" data-testid="current-attestation">
          <Text weight="semibold">Attestation</Text>
          <CurrentAttestation enrollment={editing} />
        </div>
        {editing.attestation.type === 'x509' && (
          <Checkbox
            label="Give new certificates (they replace the ones above)"
            checked={form.replaceCertificates}
            disabled={disabled}
            onChange={(_e, d) => onChange({ replaceCertificates: d.checked === true })}
          />
        )}
        {editing.attestation.type === 'x509' && form.replaceCertificates && (
          <CertificateFields {...props} />
        )}
      </>
    );
  const types: AttestationType[] =
    kind === 'group' ? ['symmetricKey', 'x509'] : ['symmetricKey', 'x509', 'tpm'];
  return (
    <>
      <Field label="Attestation" required {...validation(problemOf('attestation'))}>
        <RadioGroup
          layout="horizontal"
          value={form.attestation}
          disabled={disabled}
          onChange={(_e, d) => onChange({ attestation: d.value as AttestationType })}
        >
          {types.map((type) => (
            <Radio
              key={type}
              value={type}
              label={type === 'x509' ? 'X.509 certificate' : ATTESTATION[type]}
            />
          ))}
        </RadioGroup>
      </Field>
      {form.attestation === 'symmetricKey' && (
        <Text size={200} className="muted">
          DPS makes the keys and keeps them; Twinscope never shows them.
          {kind === 'group' &&
            ' Each device derives its own key from the group key and its registration id.'}
        </Text>
      )}
      {form.attestation === 'x509' && <CertificateFields {...props} />}
      {form.attestation === 'tpm' && (
        <Field
          label="Endorsement key"
          required
          hint="The TPM’s endorsement key (base64), as the device reports it."
          {...validation(problemOf('endorsementKey'))}
        >
          <Textarea
            className="mono"
            rows={3}
            value={form.endorsementKey}
            disabled={disabled}
            onChange={(_e, d) => onChange({ endorsementKey: d.value })}
          />
        </Field>
      )}
    </>
  );
}
