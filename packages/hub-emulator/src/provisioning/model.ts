// The Device Provisioning Service's records as its service API (2021-10-01) writes and reads
// them: individual enrollments, enrollment groups and registration states, with the checks
// the service makes on what an operator sends. Pure: no I/O.
import { createHmac, randomBytes } from 'node:crypto';
import { validateSectionPatch, type JsonObject, type JsonValue } from '@twinscope/twin';
import { ProvisioningError } from './errors.ts';

export type AttestationType = 'symmetricKey' | 'x509' | 'tpm';
export type AllocationPolicy = 'hashed' | 'geoLatency' | 'static' | 'custom';
export type RegistrationStatus = 'unassigned' | 'assigning' | 'assigned' | 'failed' | 'disabled';
export type Substatus =
  | 'initialAssignment'
  | 'deviceDataMigrated'
  | 'deviceDataReset'
  | 'reprovisionedToInitialAssignment';

export interface SymmetricKeyAttestation {
  type: 'symmetricKey';
  symmetricKey: { primaryKey: string; secondaryKey: string };
}

/** A certificate as the service keeps it: the PEM it was given, and what it reads from it. */
export interface CertificateWithInfo {
  certificate?: string;
  info?: JsonObject;
}

export interface X509Attestation {
  type: 'x509';
  x509: {
    clientCertificates?: { primary?: CertificateWithInfo; secondary?: CertificateWithInfo };
    signingCertificates?: { primary?: CertificateWithInfo; secondary?: CertificateWithInfo };
    caReferences?: { primary?: string; secondary?: string };
  };
}

export interface TpmAttestation {
  type: 'tpm';
  tpm: { endorsementKey: string; storageRootKey?: string };
}

export type Attestation = SymmetricKeyAttestation | X509Attestation | TpmAttestation;

/** What individual enrollments and groups share. */
export interface EnrollmentSettings {
  attestation: Attestation;
  capabilities: { iotEdge: boolean };
  initialTwin: { tags?: JsonObject; properties?: { desired?: JsonObject } } | null;
  provisioningStatus: 'enabled' | 'disabled';
  reprovisionPolicy: { updateHubAssignment: boolean; migrateDeviceData: boolean };
  allocationPolicy: AllocationPolicy | null;
  iotHubs: string[];
  iotHubHostName: string | null;
  customAllocationDefinition: { webhookUrl: string; apiVersion: string } | null;
  etag: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
}

export interface IndividualEnrollment extends EnrollmentSettings {
  registrationId: string;
  deviceId: string | null;
}

export interface EnrollmentGroup extends EnrollmentSettings {
  enrollmentGroupId: string;
}

export interface RegistrationState {
  registrationId: string;
  createdDateTimeUtc: string;
  assignedHub?: string;
  deviceId?: string;
  status: RegistrationStatus;
  substatus?: Substatus;
  errorCode?: number;
  errorMessage?: string;
  lastUpdatedDateTimeUtc: string;
  etag: string;
  /** How the device attested: `{ enrollmentGroupId? }`, or its certificate's details. */
  symmetricKey?: JsonObject;
  x509?: JsonObject;
  /** The enrollment group it came through; none for an individual enrollment. */
  enrollmentGroupId?: string;
  payload?: JsonValue;
}

/** Registration and group ids: what the service accepts (case-insensitive, kept lower). */
const ID = /^[a-z0-9][a-z0-9.\-_:]{0,127}$/i;

export function checkId(kind: 'registration' | 'enrollment group', id: string): void {
  if (!ID.test(id))
    throw new ProvisioningError(
      400,
      400004,
      `The ${kind} id '${id}' is not valid: up to 128 letters, digits, '-', '.', '_' or ':', starting with a letter or digit.`,
    );
}

export const generateKey = () => randomBytes(64).toString('base64');
export const newEtag = () => `"${randomBytes(8).toString('hex')}"`;

/**
 * The key a device of a symmetric-key group signs with: HMAC-SHA256 of its registration id
 * under the group's key, as every SDK's sample and the service derive it.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}

const isObject = (value: JsonValue | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function invalid(message: string): never {
  throw new ProvisioningError(400, 400004, message);
}

function optionalBoolean(value: JsonValue | undefined, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') invalid(`${field} must be true or false.`);
  return value;
}

function keyOrNew(value: JsonValue | undefined, field: string): string {
  if (value === undefined || value === null || value === '') return generateKey();
  if (typeof value !== 'string' || Buffer.from(value, 'base64').length < 16)
    invalid(`${field} must be a base64 key of 16 to 64 bytes.`);
  return value;
}

function certificateEntry(
  value: JsonValue | undefined,
  field: string,
): CertificateWithInfo | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) invalid(`${field} must be an object with a certificate.`);
  const certificate = value['certificate'];
  if (certificate === undefined || certificate === null) {
    // Read back from the service (info only) and sent again on update: kept as it was.
    if (isObject(value['info'])) return { info: value['info'] };
    invalid(`${field}.certificate is missing.`);
  }
  if (typeof certificate !== 'string' || certificate.trim() === '')
    invalid(`${field}.certificate must be a PEM or base64 certificate.`);
  return { certificate };
}

function parseAttestation(value: JsonValue | undefined, group: boolean): Attestation {
  if (!isObject(value)) invalid('attestation is missing: give its type and mechanism.');
  const type = value['type'];
  if (type === 'symmetricKey') {
    const keys = isObject(value['symmetricKey']) ? value['symmetricKey'] : {};
    return {
      type,
      symmetricKey: {
        primaryKey: keyOrNew(keys['primaryKey'], 'attestation.symmetricKey.primaryKey'),
        secondaryKey: keyOrNew(keys['secondaryKey'], 'attestation.symmetricKey.secondaryKey'),
      },
    };
  }
  if (type === 'x509') {
    const x509 = isObject(value['x509']) ? value['x509'] : invalid('attestation.x509 is missing.');
    const pair = (name: 'clientCertificates' | 'signingCertificates') => {
      const given = x509[name];
      if (given === undefined || given === null) return undefined;
      if (!isObject(given)) invalid(`attestation.x509.${name} must be an object.`);
      const primary = certificateEntry(given['primary'], `attestation.x509.${name}.primary`);
      const secondary = certificateEntry(given['secondary'], `attestation.x509.${name}.secondary`);
      if (!primary) invalid(`attestation.x509.${name}.primary is missing.`);
      return { primary, ...(secondary ? { secondary } : {}) };
    };
    const clientCertificates = pair('clientCertificates');
    const signingCertificates = pair('signingCertificates');
    const caReferences = isObject(x509['caReferences'])
      ? (x509['caReferences'] as { primary?: string; secondary?: string })
      : undefined;
    if (group ? !signingCertificates && !caReferences : !clientCertificates)
      invalid(
        group
          ? 'An X.509 enrollment group needs attestation.x509.signingCertificates (or caReferences).'
          : 'An X.509 individual enrollment needs attestation.x509.clientCertificates.',
      );
    return {
      type,
      x509: {
        ...(clientCertificates ? { clientCertificates } : {}),
        ...(signingCertificates ? { signingCertificates } : {}),
        ...(caReferences ? { caReferences } : {}),
      },
    };
  }
  if (type === 'tpm') {
    if (group) invalid('Enrollment groups do not take TPM attestation.');
    const tpm = isObject(value['tpm']) ? value['tpm'] : invalid('attestation.tpm is missing.');
    const endorsementKey = tpm['endorsementKey'];
    if (typeof endorsementKey !== 'string' || endorsementKey === '')
      invalid('attestation.tpm.endorsementKey is missing.');
    const storageRootKey = tpm['storageRootKey'];
    return {
      type,
      tpm: {
        endorsementKey,
        ...(typeof storageRootKey === 'string' ? { storageRootKey } : {}),
      },
    };
  }
  return invalid(
    `attestation.type must be symmetricKey, x509 or tpm, not ${JSON.stringify(type)}.`,
  );
}

function parseInitialTwin(value: JsonValue | undefined): EnrollmentSettings['initialTwin'] {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) invalid('initialTwin must be an object of tags and properties.desired.');
  const tags = value['tags'];
  const properties = value['properties'];
  if (tags !== undefined && tags !== null && !isObject(tags))
    invalid('initialTwin.tags must be an object.');
  if (properties !== undefined && properties !== null && !isObject(properties))
    invalid('initialTwin.properties must be an object.');
  const desired = isObject(properties) ? properties['desired'] : undefined;
  if (desired !== undefined && desired !== null && !isObject(desired))
    invalid('initialTwin.properties.desired must be an object.');
  // The hub's twin rules (names, depth, sizes), checked now: an initial twin the hub would
  // refuse must not leave a device created without it.
  const violation = [
    ...validateSectionPatch('tags', isObject(tags) ? tags : {}),
    ...validateSectionPatch('desired', isObject(desired) ? desired : {}),
  ][0];
  if (violation) invalid(`initialTwin: ${violation.path}: ${violation.message}`);
  return {
    ...(isObject(tags) ? { tags } : {}),
    ...(isObject(desired) ? { properties: { desired } } : {}),
  };
}

const ALLOCATION = new Set<AllocationPolicy>(['hashed', 'geoLatency', 'static', 'custom']);

/** The settings an enrollment or group request sets; `at` stamps a new one. */
export function parseSettings(
  body: JsonObject,
  group: boolean,
  previous: EnrollmentSettings | undefined,
  at: string,
): EnrollmentSettings {
  const status = body['provisioningStatus'] ?? 'enabled';
  if (status !== 'enabled' && status !== 'disabled')
    invalid(`provisioningStatus must be enabled or disabled, not ${JSON.stringify(status)}.`);
  const reprovision = isObject(body['reprovisionPolicy']) ? body['reprovisionPolicy'] : {};
  const allocation = body['allocationPolicy'];
  if (
    allocation !== undefined &&
    allocation !== null &&
    !ALLOCATION.has(allocation as AllocationPolicy)
  )
    invalid(`allocationPolicy must be hashed, geoLatency, static or custom.`);
  const custom = body['customAllocationDefinition'];
  let customAllocationDefinition: EnrollmentSettings['customAllocationDefinition'] = null;
  if (isObject(custom)) {
    const webhookUrl = custom['webhookUrl'];
    const apiVersion = custom['apiVersion'];
    if (typeof webhookUrl !== 'string' || !/^https?:\/\//.test(webhookUrl))
      invalid('customAllocationDefinition.webhookUrl must be an http(s) URL.');
    customAllocationDefinition = {
      webhookUrl,
      apiVersion: typeof apiVersion === 'string' ? apiVersion : '2021-10-01',
    };
  }
  if (allocation === 'custom' && !customAllocationDefinition)
    invalid('A custom allocation policy needs customAllocationDefinition.webhookUrl.');
  const hubs = body['iotHubs'];
  if (
    hubs !== undefined &&
    hubs !== null &&
    (!Array.isArray(hubs) || hubs.some((h) => typeof h !== 'string'))
  )
    invalid('iotHubs must be a list of hub host names.');
  const capabilities = isObject(body['capabilities']) ? body['capabilities'] : {};
  const hostName = body['iotHubHostName'];
  return {
    attestation: parseAttestation(body['attestation'], group),
    capabilities: {
      iotEdge: optionalBoolean(capabilities['iotEdge'], 'capabilities.iotEdge', false),
    },
    initialTwin: parseInitialTwin(body['initialTwin']),
    provisioningStatus: status,
    reprovisionPolicy: {
      updateHubAssignment: optionalBoolean(
        reprovision['updateHubAssignment'],
        'reprovisionPolicy.updateHubAssignment',
        true,
      ),
      migrateDeviceData: optionalBoolean(
        reprovision['migrateDeviceData'],
        'reprovisionPolicy.migrateDeviceData',
        true,
      ),
    },
    allocationPolicy: (allocation as AllocationPolicy | undefined) ?? null,
    iotHubs: (hubs as string[] | undefined) ?? [],
    iotHubHostName: typeof hostName === 'string' ? hostName : null,
    customAllocationDefinition,
    etag: newEtag(),
    createdDateTimeUtc: previous?.createdDateTimeUtc ?? at,
    lastUpdatedDateTimeUtc: at,
  };
}

/** An attestation as the service reads it back: keys yes, certificates as their info. */
function renderAttestation(
  attestation: Attestation,
  certificateInfo: (pem: string) => JsonObject,
): JsonObject {
  if (attestation.type !== 'x509') return attestation as unknown as JsonObject;
  const pair = (given?: { primary?: CertificateWithInfo; secondary?: CertificateWithInfo }) =>
    given && {
      ...(given.primary
        ? { primary: { info: given.primary.info ?? certificateInfo(given.primary.certificate!) } }
        : {}),
      ...(given.secondary
        ? {
            secondary: {
              info: given.secondary.info ?? certificateInfo(given.secondary.certificate!),
            },
          }
        : {}),
    };
  const { clientCertificates, signingCertificates, caReferences } = attestation.x509;
  return {
    type: 'x509',
    x509: {
      ...(clientCertificates ? { clientCertificates: pair(clientCertificates)! } : {}),
      ...(signingCertificates ? { signingCertificates: pair(signingCertificates)! } : {}),
      ...(caReferences ? { caReferences } : {}),
    },
  };
}

function renderSettings(
  settings: EnrollmentSettings,
  certificateInfo: (pem: string) => JsonObject,
): JsonObject {
  return {
    attestation: renderAttestation(settings.attestation, certificateInfo),
    capabilities: settings.capabilities,
    ...(settings.initialTwin ? { initialTwin: settings.initialTwin as JsonObject } : {}),
    ...(settings.iotHubHostName ? { iotHubHostName: settings.iotHubHostName } : {}),
    provisioningStatus: settings.provisioningStatus,
    reprovisionPolicy: settings.reprovisionPolicy,
    ...(settings.allocationPolicy ? { allocationPolicy: settings.allocationPolicy } : {}),
    iotHubs: settings.iotHubs,
    ...(settings.customAllocationDefinition
      ? { customAllocationDefinition: settings.customAllocationDefinition }
      : {}),
    etag: settings.etag,
    createdDateTimeUtc: settings.createdDateTimeUtc,
    lastUpdatedDateTimeUtc: settings.lastUpdatedDateTimeUtc,
  };
}

export function renderEnrollment(
  enrollment: IndividualEnrollment,
  state: RegistrationState | undefined,
  certificateInfo: (pem: string) => JsonObject,
): JsonObject {
  return {
    registrationId: enrollment.registrationId,
    ...(enrollment.deviceId ? { deviceId: enrollment.deviceId } : {}),
    ...(state ? { registrationState: renderRegistration(state) } : {}),
    ...renderSettings(enrollment, certificateInfo),
  };
}

export function renderGroup(
  group: EnrollmentGroup,
  certificateInfo: (pem: string) => JsonObject,
): JsonObject {
  return { enrollmentGroupId: group.enrollmentGroupId, ...renderSettings(group, certificateInfo) };
}

export function renderRegistration(state: RegistrationState): JsonObject {
  const { enrollmentGroupId: _group, ...rest } = state;
  return rest as unknown as JsonObject;
}
