import type {
  AllocationPolicy,
  AttestationView,
  CertificateInfo,
  EnrollmentKind,
  Registration,
  Reprovision,
} from '@twinscope/contract';

/** What each kind is called, as a title ("Enrollment group demo-sensors") and in a sentence. */
export const KIND = {
  group: { title: 'Enrollment group', noun: 'enrollment group', list: 'Enrollment groups' },
  individual: {
    title: 'Individual enrollment',
    noun: 'individual enrollment',
    list: 'Individual enrollments',
  },
} as const satisfies Record<EnrollmentKind, { title: string; noun: string; list: string }>;

export const ATTESTATION: Record<AttestationView['type'], string> = {
  symmetricKey: 'Symmetric key',
  x509: 'X.509',
  tpm: 'TPM',
};

/** Each allocation policy: its short name, and what it does in one line. */
export const ALLOCATION: Record<AllocationPolicy, { label: string; explain: string }> = {
  hashed: {
    label: 'Evenly weighted (hashed)',
    explain: 'Devices are spread evenly across the linked IoT hubs.',
  },
  geoLatency: {
    label: 'Lowest latency',
    explain: 'Each device goes to the linked IoT hub closest to it.',
  },
  static: {
    label: 'Static',
    explain: 'Every device goes to the one IoT hub linked to the enrollment.',
  },
  custom: {
    label: 'Custom (webhook)',
    explain: 'A webhook (an Azure Function, say) chooses the hub, and may set the initial twin.',
  },
};

/** What happens when an already provisioned device registers again. */
export const REPROVISION: Record<Reprovision, { label: string; explain: string }> = {
  migrate: {
    label: 'Re-provision and migrate data',
    explain: 'The device may move to another hub, and takes its current twin with it.',
  },
  reset: {
    label: 'Re-provision and reset to initial config',
    explain: 'The device may move to another hub, and its twin starts again from the initial twin.',
  },
  never: {
    label: 'Never re-provision',
    explain: 'The device stays on the hub it was first assigned to.',
  },
};

export const allocationLabel = (policy: AllocationPolicy | null) =>
  policy === null ? 'Service default' : ALLOCATION[policy].label;

const DAY = 86_400_000;

/** Whether a certificate is still good: expired, expiring within 30 days, or fine. */
export function expiryOf(
  certificate: Pick<CertificateInfo, 'notAfterUtc'>,
  now = Date.now(),
): 'expired' | 'soon' | 'valid' | undefined {
  const until = certificate.notAfterUtc ? Date.parse(certificate.notAfterUtc) : Number.NaN;
  if (Number.isNaN(until)) return undefined;
  return until <= now ? 'expired' : until - now <= 30 * DAY ? 'soon' : 'valid';
}

/** A certificate in one line: its subject and until when it is valid. */
export function certificateLine(certificate: CertificateInfo): string {
  const subject = certificate.subjectName ?? '(no subject)';
  const until = certificate.notAfterUtc
    ? `, valid until ${new Date(certificate.notAfterUtc).toLocaleDateString()}`
    : '';
  return `${subject}${until}`;
}

export const STATUS_COLOR: Record<
  Registration['status'],
  'success' | 'warning' | 'danger' | 'informative'
> = {
  assigned: 'success',
  assigning: 'informative',
  unassigned: 'warning',
  failed: 'danger',
  disabled: 'warning',
};
