import {
  EnrollmentIdSchema,
  EnrollmentInputSchema,
  type AllocationPolicy,
  type AttestationInput,
  type Enrollment,
  type EnrollmentInput,
  type EnrollmentKind,
  type Reprovision,
} from '@twinscope/contract';
import type { z } from 'zod';
import { checkInitialTwin, describeProblem, initialTwinText } from './initial-twin.ts';

export type AttestationType = AttestationInput['type'];

/** The enrollment form as typed: every field a string or a switch. */
export interface EnrollmentForm {
  /** The enrollment (or group) id; fixed once created. */
  id: string;
  attestation: AttestationType;
  primaryCertificate: string;
  secondaryCertificate: string;
  /** On a change of an X.509 enrollment: give new certificates instead of keeping them. */
  replaceCertificates: boolean;
  endorsementKey: string;
  /** Individual enrollments: the device id to create in the hub (empty: the registration id). */
  deviceId: string;
  enabled: boolean;
  iotEdge: boolean;
  allocationPolicy: AllocationPolicy;
  /** Empty on a change keeps the current webhook (whose query the console never sees). */
  webhookUrl: string;
  apiVersion: string;
  reprovision: Reprovision;
  /** The initial twin as the editor holds it: `{ tags, properties: { desired } }`. */
  initialTwin: string;
}

export type FormField = keyof EnrollmentForm;

export const DEFAULT_API_VERSION = '2021-10-01';

export function newEnrollmentForm(): EnrollmentForm {
  return {
    id: '',
    attestation: 'symmetricKey',
    primaryCertificate: '',
    secondaryCertificate: '',
    replaceCertificates: false,
    endorsementKey: '',
    deviceId: '',
    enabled: true,
    iotEdge: false,
    allocationPolicy: 'hashed',
    webhookUrl: '',
    apiVersion: DEFAULT_API_VERSION,
    reprovision: 'migrate',
    initialTwin: initialTwinText({ tags: {}, desired: {} }),
  };
}

/** An existing enrollment as the form shows it (no certificate text: DPS holds it). */
export function formOf(enrollment: Enrollment): EnrollmentForm {
  return {
    ...newEnrollmentForm(),
    id: enrollment.id,
    attestation: enrollment.attestation.type,
    deviceId: enrollment.deviceId ?? '',
    enabled: enrollment.enabled,
    iotEdge: enrollment.iotEdge,
    // No policy on the enrollment means DPS's default, which is hashed.
    allocationPolicy: enrollment.allocationPolicy ?? 'hashed',
    apiVersion: enrollment.customAllocation?.apiVersion ?? DEFAULT_API_VERSION,
    reprovision: enrollment.reprovision,
    initialTwin: initialTwinText(enrollment.initialTwin),
  };
}

/** Whether the form differs from what it started from. */
export function isFormDirty(form: EnrollmentForm, base: EnrollmentForm): boolean {
  return (Object.keys(form) as FormField[]).some((key) => form[key] !== base[key]);
}

export type FormResult =
  { ok: true; input: EnrollmentInput } | { ok: false; field: FormField; message: string };

const FIELD_OF_PATH: Record<string, FormField> = {
  id: 'id',
  deviceId: 'deviceId',
  'attestation.primary': 'primaryCertificate',
  'attestation.secondary': 'secondaryCertificate',
  'attestation.endorsementKey': 'endorsementKey',
  'customAllocation.webhookUrl': 'webhookUrl',
  'customAllocation.apiVersion': 'apiVersion',
  initialTwin: 'initialTwin',
};

export const FIELD_LABEL: Record<FormField, string> = {
  id: 'ID',
  attestation: 'Attestation',
  primaryCertificate: 'Primary certificate',
  secondaryCertificate: 'Secondary certificate',
  replaceCertificates: 'Certificates',
  endorsementKey: 'Endorsement key',
  deviceId: 'Device ID',
  enabled: 'Enabled',
  iotEdge: 'IoT Edge',
  allocationPolicy: 'Allocation policy',
  webhookUrl: 'Webhook URL',
  apiVersion: 'API version',
  reprovision: 'Reprovisioning',
  initialTwin: 'Initial twin',
};

const refuse = (field: FormField, message: string): FormResult => ({ ok: false, field, message });

/** The attestation to send: required to create; on a change, only new X.509 certificates. */
function attestationOf(
  kind: EnrollmentKind,
  form: EnrollmentForm,
  editing: Enrollment | undefined,
): AttestationInput | undefined | FormResult {
  const type = editing ? editing.attestation.type : form.attestation;
  if (editing && !(type === 'x509' && form.replaceCertificates)) return undefined;
  if (type === 'symmetricKey') return { type };
  if (type === 'tpm') {
    if (kind === 'group') return refuse('attestation', 'Enrollment groups cannot use TPM.');
    const endorsementKey = form.endorsementKey.trim();
    if (!endorsementKey) return refuse('endorsementKey', "Give the TPM's endorsement key.");
    return { type, endorsementKey };
  }
  const primary = form.primaryCertificate.trim();
  const secondary = form.secondaryCertificate.trim();
  if (!primary)
    return refuse(
      'primaryCertificate',
      kind === 'group'
        ? 'Give the certificate (PEM) of the CA that signs the devices’ certificates.'
        : 'Give the device’s certificate (PEM).',
    );
  return { type, primary, ...(secondary ? { secondary } : {}) };
}

/**
 * What Save sends: the form checked as the BFF will check it (the contract's schema), with
 * the etag the enrollment was read with when it is a change. A change keeps the attestation
 * unless new certificates are given, and a custom webhook unless a new URL is.
 */
export function enrollmentInput(
  kind: EnrollmentKind,
  form: EnrollmentForm,
  editing?: Enrollment,
): FormResult {
  const id = editing ? editing.id : form.id.trim();
  if (!editing) {
    if (!id) return refuse('id', 'Give the enrollment an id.');
    const idCheck = EnrollmentIdSchema.safeParse(id);
    if (!idCheck.success) return refuse('id', idCheck.error.issues[0]!.message);
  }
  const attestation = attestationOf(kind, form, editing);
  if (attestation && 'ok' in attestation) return attestation;
  const twin = checkInitialTwin(form.initialTwin);
  if (!twin.ok) return refuse('initialTwin', describeProblem(twin.problems[0]!));
  const webhookUrl = form.webhookUrl.trim();
  const custom = form.allocationPolicy === 'custom';
  // A change of an enrollment already on a custom policy may keep its webhook.
  const keepsWebhook = editing?.allocationPolicy === 'custom' && !!editing.customAllocation;
  if (custom && !webhookUrl && !keepsWebhook)
    return refuse('webhookUrl', 'Custom allocation needs the webhook URL to call.');
  const deviceId = form.deviceId.trim();
  const candidate: z.input<typeof EnrollmentInputSchema> = {
    kind,
    id,
    ...(kind === 'individual' && deviceId ? { deviceId } : {}),
    ...(attestation ? { attestation } : {}),
    enabled: form.enabled,
    iotEdge: form.iotEdge,
    allocationPolicy: form.allocationPolicy,
    ...(custom
      ? {
          customAllocation: {
            ...(webhookUrl ? { webhookUrl } : {}),
            apiVersion: form.apiVersion.trim() || DEFAULT_API_VERSION,
          },
        }
      : {}),
    reprovision: form.reprovision,
    initialTwin: twin.twin,
    ...(editing ? { etag: editing.etag } : {}),
  };
  const checked = EnrollmentInputSchema.safeParse(candidate);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = FIELD_OF_PATH[issue.path.join('.')] ?? FIELD_OF_PATH[String(issue.path[0])];
    return field
      ? refuse(field, `${FIELD_LABEL[field]}: ${issue.message}`)
      : refuse('id', issue.message);
  }
  return { ok: true, input: checked.data };
}

/** The enrollment as it is, enabled or disabled (Enable/Disable: nothing else changes). */
export function toggledInput(enrollment: Enrollment): EnrollmentInput {
  const form = { ...formOf(enrollment), enabled: !enrollment.enabled };
  const result = enrollmentInput(enrollment.kind, form, enrollment);
  if (result.ok) return result.input;
  // What DPS holds always reads back; should it not, send it as it is and let DPS judge.
  return {
    kind: enrollment.kind,
    id: enrollment.id,
    enabled: form.enabled,
    iotEdge: enrollment.iotEdge,
    allocationPolicy: form.allocationPolicy,
    reprovision: enrollment.reprovision,
    initialTwin: enrollment.initialTwin,
    etag: enrollment.etag,
  };
}
