import type {
  AttestationView,
  CertificateInfo,
  DeviceProvisioning,
  Enrollment,
  EnrollmentInput,
  EnrollmentKind,
  ProvisioningOverview,
  Registration,
  Reprovision,
} from '@twinscope/contract';
import {
  isBookkeepingKey,
  objectOf,
  stringOf,
  validateSection,
  type JsonObject,
} from '@twinscope/twin';
import type { DpsRecord, ProvisioningAdapter } from '../adapters/provisioning.ts';
import { AppError } from '../core/app-error.ts';
import { twinRuleError } from '../core/twin-rules.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

/** What the console lists of each kind (DPS pages by 100; a fleet's enrollments are few). */
const LIST_LIMIT = 1000;

export interface ProvisioningSettings {
  idScope?: string;
  deviceEndpoint: string;
}

const ALLOCATIONS = new Set(['hashed', 'geoLatency', 'static', 'custom']);

function certificatesOf(x509: JsonObject): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  for (const set of ['clientCertificates', 'signingCertificates']) {
    const pair = objectOf(x509[set]);
    for (const slot of ['primary', 'secondary'] as const) {
      const info = objectOf(objectOf(pair[slot])['info']);
      if (Object.keys(objectOf(pair[slot])).length === 0) continue;
      const text = (key: string) => {
        const value = stringOf(info[key]);
        return value === undefined ? {} : { [key]: value };
      };
      out.push({
        slot,
        ...text('subjectName'),
        ...text('issuerName'),
        ...text('sha1Thumbprint'),
        ...text('sha256Thumbprint'),
        ...text('notBeforeUtc'),
        ...text('notAfterUtc'),
      });
    }
  }
  return out;
}

/** An attestation as the console may see it: which kind, certificates' details, no key. */
function attestationView(attestation: JsonObject): AttestationView {
  const type = attestation['type'];
  if (type === 'x509') {
    const x509 = objectOf(attestation['x509']);
    const references = objectOf(x509['caReferences']);
    return {
      type: 'x509',
      certificates: certificatesOf(x509),
      caReferences: [references['primary'], references['secondary']].filter(
        (r): r is string => typeof r === 'string',
      ),
    };
  }
  return type === 'tpm' ? { type: 'tpm' } : { type: 'symmetricKey' };
}

function reprovisionOf(policy: JsonObject): Reprovision {
  if (policy['updateHubAssignment'] === false) return 'never';
  return policy['migrateDeviceData'] === false ? 'reset' : 'migrate';
}

const withoutBookkeeping = (section: JsonObject): JsonObject =>
  Object.fromEntries(Object.entries(section).filter(([key]) => !isBookkeepingKey(key)));

/** An enrollment or group as DPS keeps it → as the console shows it (no key, no URL query). */
export function enrollmentOf(kind: EnrollmentKind, record: DpsRecord): Enrollment {
  const twin = objectOf(record['initialTwin']);
  const custom = objectOf(record['customAllocationDefinition']);
  const webhookUrl = stringOf(custom['webhookUrl']);
  let webhook: { webhook: string; hasQuery: boolean } | undefined;
  if (webhookUrl !== undefined) {
    try {
      const url = new URL(webhookUrl);
      webhook = { webhook: `${url.origin}${url.pathname}`, hasQuery: url.search !== '' };
    } catch {
      webhook = { webhook: '(not a URL)', hasQuery: false };
    }
  }
  const allocation = stringOf(record['allocationPolicy']);
  const text = (key: string) => stringOf(record[key]);
  return {
    kind,
    id: String(kind === 'group' ? record['enrollmentGroupId'] : record['registrationId']),
    ...(kind === 'individual' && text('deviceId') ? { deviceId: text('deviceId')! } : {}),
    attestation: attestationView(objectOf(record['attestation'])),
    enabled: record['provisioningStatus'] !== 'disabled',
    iotEdge: objectOf(record['capabilities'])['iotEdge'] === true,
    allocationPolicy:
      allocation && ALLOCATIONS.has(allocation)
        ? (allocation as Enrollment['allocationPolicy'])
        : null,
    iotHubs: Array.isArray(record['iotHubs'])
      ? record['iotHubs'].filter((h): h is string => typeof h === 'string')
      : [],
    ...(webhook
      ? {
          customAllocation: {
            ...webhook,
            apiVersion: stringOf(custom['apiVersion']) ?? '2021-10-01',
          },
        }
      : {}),
    reprovision: reprovisionOf(objectOf(record['reprovisionPolicy'])),
    initialTwin: {
      tags: withoutBookkeeping(objectOf(twin['tags'])),
      desired: withoutBookkeeping(objectOf(objectOf(twin['properties'])['desired'])),
    },
    ...(text('createdDateTimeUtc') ? { createdAt: text('createdDateTimeUtc')! } : {}),
    ...(text('lastUpdatedDateTimeUtc') ? { updatedAt: text('lastUpdatedDateTimeUtc')! } : {}),
    etag: text('etag') ?? '',
  };
}

/** A registration record as the console shows it. */
export function registrationOf(record: DpsRecord): Registration {
  const text = (key: string) => stringOf(record[key]);
  const status = text('status');
  const group =
    stringOf(objectOf(record['symmetricKey'])['enrollmentGroupId']) ??
    stringOf(objectOf(record['x509'])['enrollmentGroupId']);
  return {
    registrationId: text('registrationId') ?? '',
    ...(text('deviceId') ? { deviceId: text('deviceId')! } : {}),
    ...(text('assignedHub') ? { assignedHub: text('assignedHub')! } : {}),
    status: (['unassigned', 'assigning', 'assigned', 'failed', 'disabled'].includes(status ?? '')
      ? status
      : 'unassigned') as Registration['status'],
    ...(text('substatus') ? { substatus: text('substatus')! } : {}),
    ...(typeof record['errorCode'] === 'number' ? { errorCode: record['errorCode'] } : {}),
    ...(text('errorMessage') ? { errorMessage: text('errorMessage')! } : {}),
    ...(group ? { enrollmentGroupId: group } : {}),
    ...(text('createdDateTimeUtc') ? { createdAt: text('createdDateTimeUtc')! } : {}),
    ...(text('lastUpdatedDateTimeUtc') ? { updatedAt: text('lastUpdatedDateTimeUtc')! } : {}),
    ...(text('etag') ? { etag: text('etag')! } : {}),
  };
}

const NOT_CONFIGURED =
  'No Device Provisioning Service is configured: set TWINSCOPE_DPS_CONNECTION_STRING (or TWINSCOPE_DPS_HOST_NAME for Entra access).';

/** The attestation a new enrollment is written with (symmetric keys are made by DPS). */
function attestationRecord(
  kind: EnrollmentKind,
  input: NonNullable<EnrollmentInput['attestation']>,
): JsonObject {
  if (input.type === 'symmetricKey') return { type: 'symmetricKey', symmetricKey: {} };
  if (input.type === 'tpm') {
    if (kind === 'group')
      throw new AppError(
        'validation_failed',
        'Enrollment groups do not take TPM attestation (DPS enrolls TPM devices individually).',
      );
    return { type: 'tpm', tpm: { endorsementKey: input.endorsementKey } };
  }
  const set = kind === 'group' ? 'signingCertificates' : 'clientCertificates';
  return {
    type: 'x509',
    x509: {
      [set]: {
        primary: { certificate: input.primary },
        ...(input.secondary ? { secondary: { certificate: input.secondary } } : {}),
      },
    },
  };
}

/** What was asked, as the audit trail keeps it: no webhook URL (its query may be a key). */
function askedOf(input: EnrollmentInput): JsonObject {
  const { customAllocation, etag: _etag, ...asked } = input;
  return {
    ...(JSON.parse(JSON.stringify(asked)) as JsonObject),
    ...(customAllocation
      ? {
          customAllocation: {
            apiVersion: customAllocation.apiVersion,
            webhookChanged: customAllocation.webhookUrl !== undefined,
          },
        }
      : {}),
  };
}

const REPROVISION = {
  migrate: { updateHubAssignment: true, migrateDeviceData: true },
  reset: { updateHubAssignment: true, migrateDeviceData: false },
  never: { updateHubAssignment: false, migrateDeviceData: true },
} as const;

/**
 * The Device Provisioning Service as the console manages it: enrollments and groups (read
 * for everyone, written by Admins, every write in the audit trail), the registrations
 * devices made through them, and how a device came to the hub.
 */
export class ProvisioningService {
  constructor(
    private readonly dps: ProvisioningAdapter | undefined,
    private readonly settings: ProvisioningSettings,
    private readonly audit: AuditTrail,
  ) {}

  private service(): ProvisioningAdapter {
    if (!this.dps) throw new AppError('not_found', NOT_CONFIGURED);
    return this.dps;
  }

  async overview(): Promise<ProvisioningOverview> {
    if (!this.dps) return { groups: [], enrollments: [], truncated: false };
    const [groups, enrollments] = await Promise.all([
      this.dps.list('group', LIST_LIMIT),
      this.dps.list('individual', LIST_LIMIT),
    ]);
    const byId = (a: Enrollment, b: Enrollment) => a.id.localeCompare(b.id);
    return {
      service: this.dps.hostName,
      ...(this.settings.idScope ? { idScope: this.settings.idScope } : {}),
      deviceEndpoint: this.settings.deviceEndpoint,
      groups: groups.items.map((r) => enrollmentOf('group', r)).sort(byId),
      enrollments: enrollments.items.map((r) => enrollmentOf('individual', r)).sort(byId),
      truncated: groups.truncated || enrollments.truncated,
    };
  }

  async get(kind: EnrollmentKind, id: string): Promise<Enrollment> {
    return enrollmentOf(kind, await this.service().get(kind, id));
  }

  async registrations(kind: EnrollmentKind, id: string): Promise<Registration[]> {
    const dps = this.service();
    if (kind === 'group')
      return (await dps.registrationsOfGroup(id, LIST_LIMIT)).map(registrationOf);
    // An individual enrollment has at most one registration, under its own id.
    await dps.get('individual', id);
    const record = await dps.registration(id);
    return record ? [registrationOf(record)] : [];
  }

  /**
   * Creates (no etag) or changes (with the etag it was read with; a conflict never
   * overwrites) an enrollment. A change keeps the attestation, keys included, unless new
   * certificates are given, and a custom allocation webhook's URL unless a new one is.
   */
  async save(input: EnrollmentInput, actor: Actor): Promise<Enrollment> {
    const dps = this.service();
    const { kind, id } = input;
    for (const [section, values] of [
      ['tags', input.initialTwin.tags],
      ['desired', input.initialTwin.desired],
    ] as const) {
      const violations = validateSection(section, values);
      if (violations.length > 0)
        throw twinRuleError(
          violations,
          `The initial twin's ${section === 'tags' ? 'tags' : 'desired properties'}`,
        );
    }
    if (kind === 'group' && input.deviceId !== undefined)
      throw new AppError('validation_failed', 'Only an individual enrollment names a device id.');
    // A create must not replace an enrollment of the same id (DPS would, with new keys that
    // every device of a group derives its own from): the id is looked up either way.
    let existing: DpsRecord | undefined;
    try {
      existing = await dps.get(kind, id);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
    }
    const what = kind === 'group' ? 'Enrollment group' : 'Enrollment';
    if (existing && input.etag === undefined)
      throw new AppError('conflict', `${what} ${id} already exists: open it to change it.`);
    if (!existing && input.etag !== undefined)
      throw new AppError('not_found', `${what} ${id} was deleted since you loaded it.`);
    if (existing && input.etag !== stringOf(existing['etag']))
      throw new AppError(
        'conflict',
        `${what} ${id} was changed by someone else since you loaded it.`,
      );
    let attestation: JsonObject;
    if (input.attestation) attestation = attestationRecord(kind, input.attestation);
    else if (existing) attestation = await dps.attestation(kind, id);
    else throw new AppError('validation_failed', 'A new enrollment needs an attestation.');
    const current = objectOf(existing?.['customAllocationDefinition']);
    let webhookUrl = input.customAllocation?.webhookUrl;
    if (input.allocationPolicy === 'custom' && webhookUrl === undefined)
      webhookUrl = stringOf(current['webhookUrl']);
    if (input.allocationPolicy === 'custom' && webhookUrl === undefined)
      throw new AppError('validation_failed', 'Custom allocation needs the webhook URL to call.');
    // A change starts from the record as DPS holds it, so what the console does not edit
    // (linked hubs, the hub host name, optional device information, newer fields) is kept.
    const {
      etag: _etag,
      createdDateTimeUtc: _created,
      lastUpdatedDateTimeUtc: _updated,
      registrationState: _state,
      ...kept
    } = existing ?? {};
    const record: JsonObject = {
      ...kept,
      ...(kind === 'group' ? { enrollmentGroupId: id } : { registrationId: id }),
      ...(kind === 'individual' && input.deviceId ? { deviceId: input.deviceId } : {}),
      attestation,
      capabilities: { ...objectOf(kept['capabilities']), iotEdge: input.iotEdge },
      provisioningStatus: input.enabled ? 'enabled' : 'disabled',
      reprovisionPolicy: { ...REPROVISION[input.reprovision] },
      // The form's "hashed" on an enrollment that named no policy is the service's default,
      // which it keeps.
      allocationPolicy:
        existing && existing['allocationPolicy'] == null && input.allocationPolicy === 'hashed'
          ? null
          : input.allocationPolicy,
      ...(input.allocationPolicy === 'custom'
        ? {
            customAllocationDefinition: {
              webhookUrl: webhookUrl!,
              apiVersion:
                input.customAllocation?.apiVersion ??
                stringOf(current['apiVersion']) ??
                '2021-10-01',
            },
          }
        : { customAllocationDefinition: null }),
      initialTwin: {
        tags: input.initialTwin.tags,
        properties: { desired: input.initialTwin.desired },
      },
      ...(input.etag !== undefined ? { etag: input.etag } : {}),
    };
    const saved = await audited(
      this.audit,
      {
        actor,
        action:
          kind === 'group'
            ? existing
              ? 'provisioning.group-update'
              : 'provisioning.group-create'
            : existing
              ? 'provisioning.enrollment-update'
              : 'provisioning.enrollment-create',
        target: { deviceId: '', provisioning: { kind, id } },
        change: askedOf(input),
        ...(input.etag !== undefined ? { before: { etag: input.etag } } : {}),
      },
      () => dps.save(kind, record),
      (result) => ({ etag: String(result['etag'] ?? '') }),
    );
    return enrollmentOf(kind, saved);
  }

  async remove(kind: EnrollmentKind, id: string, etag: string | undefined, actor: Actor) {
    const dps = this.service();
    await audited(
      this.audit,
      {
        actor,
        action: kind === 'group' ? 'provisioning.group-delete' : 'provisioning.enrollment-delete',
        target: { deviceId: '', provisioning: { kind, id } },
        change: {},
        ...(etag !== undefined ? { before: { etag } } : {}),
      },
      () => dps.remove(kind, id, etag),
    );
  }

  async removeRegistration(id: string, etag: string | undefined, actor: Actor) {
    const dps = this.service();
    await audited(
      this.audit,
      {
        actor,
        action: 'provisioning.registration-delete',
        target: { deviceId: '', provisioning: { kind: 'registration', id } },
        change: {},
        ...(etag !== undefined ? { before: { etag } } : {}),
      },
      () => dps.removeRegistration(id, etag),
    );
  }

  /**
   * How a device came to the hub: its registration record (registration ids are device ids
   * unless an individual enrollment names another), and the enrollment it came through.
   */
  async ofDevice(deviceId: string): Promise<DeviceProvisioning> {
    if (!this.dps) return { configured: false };
    const record = await this.dps.registration(deviceId);
    if (record && (stringOf(record['deviceId']) ?? deviceId) === deviceId) {
      const registration = registrationOf(record);
      return {
        configured: true,
        registration,
        enrollment: registration.enrollmentGroupId
          ? { kind: 'group', id: registration.enrollmentGroupId }
          : { kind: 'individual', id: registration.registrationId },
      };
    }
    // (An individual enrollment that names this device under another registration id is
    // not looked for: that would list every enrollment on each device page.)
    return { configured: true };
  }
}
