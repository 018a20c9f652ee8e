// The Device Provisioning Service beside the hub: enrollments and groups, the registrations
// devices make through them, and the assignment to the emulated hub (the device created or
// updated there with the enrollment's credentials, capabilities and initial twin). Every
// transport (HTTPS, MQTT) and the service API call into this one class.
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '@twinscope/twin';
import { parseSasToken, sameSignature, sign } from '../auth/sas.ts';
import { HubError } from '../errors.ts';
import type { Authentication } from '../store/model.ts';
import { writeJsonState } from '../store/private-files.ts';
import type { Registry } from '../store/registry.ts';
import { notFound, preconditionFailed, ProvisioningError, unauthorized } from './errors.ts';
import {
  checkId,
  deriveDeviceKey,
  newEtag,
  parseSettings,
  renderEnrollment,
  renderGroup,
  renderRegistration,
  type EnrollmentGroup,
  type EnrollmentSettings,
  type IndividualEnrollment,
  type RegistrationState,
  type Substatus,
} from './model.ts';

/** What a DPS shared access policy allows (the service's own rights). */
export const PROVISIONING_RIGHTS = [
  'ServiceConfig',
  'EnrollmentRead',
  'EnrollmentWrite',
  'DeviceConnect',
  'RegistrationStatusRead',
  'RegistrationStatusWrite',
] as const;
export type ProvisioningRight = (typeof PROVISIONING_RIGHTS)[number];

export interface ProvisioningPolicy {
  keyName: string;
  primaryKey: string;
  secondaryKey: string;
  /** Absent in state saved before rights were kept: every right, as the owner policy has. */
  rights?: ProvisioningRight[];
}

/** Policy names as the service takes them: letters, digits and `-._`, up to 64. */
const POLICY_NAME = /^[A-Za-z0-9\-._]{1,64}$/;

/** How a device proves who it is when it registers. */
export type DeviceCredential =
  { kind: 'sas'; token: string } | { kind: 'x509'; chain: X509Certificate[] } | { kind: 'none' };

/** The answer to a register or an operation-status request. */
export interface OperationStatus {
  operationId: string;
  status: 'assigning' | 'assigned' | 'failed' | 'disabled';
  registrationState?: JsonObject;
}

/** What a custom allocation webhook answered (or why the allocation failed). */
interface Allocation {
  initialTwin?: EnrollmentSettings['initialTwin'];
  payload?: JsonValue;
  failure?: string;
}

interface SavedState {
  idScope: string;
  policies: ProvisioningPolicy[];
  enrollments: IndividualEnrollment[];
  groups: EnrollmentGroup[];
  registrations: RegistrationState[];
}

/** Azurite-style fixed values for examples: used with `--development-keys`. */
export const DEVELOPMENT_PROVISIONING = {
  idScope: '0ne00000000',
  key: 'ZW11bGF0b3ItZGV2ZWxvcG1lbnQtcHJvdmlzaW9uaW5nLW93bmVyLWtleS0wMDAwMA==',
};

/** The enrollment group of `--seed demo`. */
export const DEMO_GROUP = 'demo-sensors';

const newScope = () => `0ne${randomBytes(4).toString('hex').toUpperCase()}`;

/** A certificate given as PEM, base64 of PEM, or base64 of DER, as the service takes them. */
export function readCertificate(text: string): X509Certificate {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) return new X509Certificate(trimmed);
    const bytes = Buffer.from(trimmed, 'base64');
    const decoded = bytes.toString('utf8');
    return new X509Certificate(decoded.includes('-----BEGIN') ? decoded : bytes);
  } catch {
    throw new ProvisioningError(
      400,
      400004,
      'A certificate could not be read: give it as PEM or base64.',
    );
  }
}

function certificateInfo(text: string): JsonObject {
  const certificate = readCertificate(text);
  const plain = (fingerprint: string) => fingerprint.replaceAll(':', '').toUpperCase();
  return {
    subjectName: certificate.subject.replaceAll('\n', ', '),
    sha1Thumbprint: plain(certificate.fingerprint),
    sha256Thumbprint: plain(certificate.fingerprint256),
    issuerName: certificate.issuer.replaceAll('\n', ', '),
    notBeforeUtc: new Date(certificate.validFrom).toISOString(),
    notAfterUtc: new Date(certificate.validTo).toISOString(),
    serialNumber: certificate.serialNumber,
    version: 3,
  };
}

const commonName = (certificate: X509Certificate) =>
  /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1];

/**
 * Whether `chain` (leaf first, as the device sent it) leads to `anchor`, link by link: every
 * certificate that signs another must be a CA (basic constraints) valid now, so a device's
 * own leaf cannot vouch for a certificate it made.
 */
function chainReaches(
  chain: X509Certificate[],
  anchor: X509Certificate,
  now = Date.now(),
): boolean {
  const validNow = (certificate: X509Certificate) =>
    now >= Date.parse(certificate.validFrom) && now < Date.parse(certificate.validTo);
  const signs = (child: X509Certificate, issuer: X509Certificate) =>
    issuer.ca && validNow(issuer) && child.checkIssued(issuer) && child.verify(issuer.publicKey);
  for (let i = 0; i < chain.length; i++) {
    const current = chain[i]!;
    if (current.fingerprint256 === anchor.fingerprint256)
      return i > 0 && anchor.ca && validNow(anchor);
    if (signs(current, anchor)) return true;
    const next = chain[i + 1];
    if (!next || !signs(current, next)) return false;
  }
  return false;
}

export class Provisioning {
  readonly idScope: string;
  readonly policies: ProvisioningPolicy[];
  private readonly enrollments = new Map<string, IndividualEnrollment>();
  private readonly groups = new Map<string, EnrollmentGroup>();
  private readonly registrations = new Map<string, RegistrationState>();
  /** Operations devices poll; their outcome is known when they are made. */
  private readonly operations = new Map<
    string,
    { registrationId: string; status: OperationStatus }
  >();
  private readonly file: string | undefined;

  constructor(
    private readonly registry: Registry,
    /** The hub devices are assigned to, as DPS names it (its host name). */
    private readonly hubHostName: string,
    options: { dataDir?: string; developmentKeys?: boolean } = {},
  ) {
    this.file = options.dataDir ? join(options.dataDir, 'state', 'provisioning.json') : undefined;
    const saved = this.load();
    const development = options.developmentKeys ?? false;
    this.idScope = development ? DEVELOPMENT_PROVISIONING.idScope : (saved?.idScope ?? newScope());
    this.policies = development
      ? [
          {
            keyName: 'provisioningserviceowner',
            primaryKey: DEVELOPMENT_PROVISIONING.key,
            secondaryKey: DEVELOPMENT_PROVISIONING.key,
          },
        ]
      : (saved?.policies ?? [
          {
            keyName: 'provisioningserviceowner',
            primaryKey: randomBytes(32).toString('base64'),
            secondaryKey: randomBytes(32).toString('base64'),
          },
        ]);
    for (const enrollment of saved?.enrollments ?? [])
      this.enrollments.set(enrollment.registrationId.toLowerCase(), enrollment);
    for (const group of saved?.groups ?? [])
      this.groups.set(group.enrollmentGroupId.toLowerCase(), group);
    for (const state of saved?.registrations ?? [])
      this.registrations.set(state.registrationId.toLowerCase(), state);
    this.save();
  }

  private load(): SavedState | undefined {
    if (!this.file || !existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as SavedState;
    } catch (error) {
      const aside = `${this.file}.unreadable-${Date.now()}`;
      renameSync(this.file, aside);
      console.error(
        `The saved provisioning state could not be read (${(error as Error).message}); starting without it. The file is kept as ${aside}.`,
      );
      return undefined;
    }
  }

  /** Written whole and renamed into place: a crash leaves the old state or the new. */
  private save(): void {
    if (!this.file) return;
    const state: SavedState = {
      idScope: this.idScope,
      policies: this.policies,
      enrollments: [...this.enrollments.values()],
      groups: [...this.groups.values()],
      registrations: [...this.registrations.values()],
    };
    writeJsonState(this.file, state);
  }

  private now(): string {
    return new Date().toISOString();
  }

  // ── The service API ────────────────────────────────────────────────────────────────────

  /**
   * A service token: `sr` the service's host name (with or without its port), signed with a
   * shared access policy's key. Returns the policy's name.
   */
  verifyServiceToken(
    header: string | undefined,
    hostNames: ReadonlySet<string>,
    /** The right the operation needs; a policy without it is refused, naming it. */
    needs?: ProvisioningRight,
  ): string {
    const token = header ? parseSasToken(header) : undefined;
    if (!token) throw unauthorized('The request has no valid SharedAccessSignature authorization.');
    if (Number(token.se) * 1000 < Date.now())
      throw unauthorized('The shared access signature has expired.');
    let audience: string;
    try {
      audience = decodeURIComponent(token.sr).toLowerCase();
    } catch {
      throw unauthorized('The token is not correctly URL-encoded.');
    }
    if (![...hostNames].some((name) => name.toLowerCase() === audience))
      throw unauthorized(`The token is for ${audience}, not this provisioning service.`);
    const policy = this.policies.find(
      (p) => p.keyName === (token.skn && decodeURIComponent(token.skn)),
    );
    if (!policy) throw unauthorized(`There is no shared access policy named '${token.skn ?? ''}'.`);
    let given: string;
    try {
      given = decodeURIComponent(token.sig);
    } catch {
      throw unauthorized('The token is not correctly URL-encoded.');
    }
    if (
      ![policy.primaryKey, policy.secondaryKey].some((key) =>
        sameSignature(given, sign(token.sr, token.se, key)),
      )
    )
      throw unauthorized('The shared access signature does not match the policy key.');
    if (needs && !(policy.rights ?? PROVISIONING_RIGHTS).includes(needs))
      throw unauthorized(`The shared access policy '${policy.keyName}' lacks ${needs}.`);
    return policy.keyName;
  }

  // ── Shared access policies (the service's management plane) ───────────────────────────

  /** The service's shared access policies, keys included (the management plane lists them). */
  listPolicies(): Required<ProvisioningPolicy>[] {
    return this.policies.map((p) => ({ ...p, rights: p.rights ?? [...PROVISIONING_RIGHTS] }));
  }

  /**
   * Creates a policy with new keys, or changes an existing one's rights (its keys kept), as
   * `az iot dps policy create|update` does. The owner policy keeps every right.
   */
  putPolicy(keyName: string, rights: readonly string[]): Required<ProvisioningPolicy> {
    if (!POLICY_NAME.test(keyName))
      throw new ProvisioningError(400, 400004, `The policy name '${keyName}' is not valid.`);
    const unknown = rights.filter((r) => !(PROVISIONING_RIGHTS as readonly string[]).includes(r));
    if (unknown.length > 0 || rights.length === 0)
      throw new ProvisioningError(
        400,
        400004,
        `A policy's rights are one or more of ${PROVISIONING_RIGHTS.join(', ')}${unknown.length ? `; not ${unknown.join(', ')}` : ''}.`,
      );
    if (keyName === 'provisioningserviceowner')
      throw new ProvisioningError(
        400,
        400004,
        'The provisioningserviceowner policy keeps every right.',
      );
    const existing = this.policies.find((p) => p.keyName === keyName);
    const policy = existing ?? {
      keyName,
      primaryKey: randomBytes(32).toString('base64'),
      secondaryKey: randomBytes(32).toString('base64'),
    };
    policy.rights = [...new Set(rights)] as ProvisioningRight[];
    if (!existing) this.policies.push(policy);
    this.save();
    return { ...policy, rights: policy.rights };
  }

  deletePolicy(keyName: string): void {
    if (keyName === 'provisioningserviceowner')
      throw new ProvisioningError(
        400,
        400004,
        'The provisioningserviceowner policy cannot be deleted.',
      );
    const index = this.policies.findIndex((p) => p.keyName === keyName);
    if (index < 0)
      throw new ProvisioningError(404, 404000, `There is no policy named '${keyName}'.`);
    this.policies.splice(index, 1);
    this.save();
  }

  putEnrollment(
    registrationId: string,
    body: JsonValue | undefined,
    ifMatch: string | undefined,
  ): JsonObject {
    checkId('registration', registrationId);
    const input = this.objectBody(body);
    const given = input['registrationId'];
    if (
      given !== undefined &&
      typeof given === 'string' &&
      given.toLowerCase() !== registrationId.toLowerCase()
    )
      throw new ProvisioningError(
        400,
        400004,
        `The body's registrationId '${given}' is not the path's '${registrationId}'.`,
      );
    const key = registrationId.toLowerCase();
    const current = this.enrollments.get(key);
    this.checkEtag(current?.etag, ifMatch, `enrollment ${registrationId}`);
    const deviceId = input['deviceId'];
    if (deviceId !== undefined && deviceId !== null && typeof deviceId !== 'string')
      throw new ProvisioningError(400, 400004, 'deviceId must be a string.');
    const enrollment: IndividualEnrollment = {
      registrationId: current?.registrationId ?? registrationId,
      deviceId: deviceId ?? null,
      ...parseSettings(input, false, current, this.now()),
    };
    this.checkCertificates(enrollment, current);
    this.enrollments.set(key, enrollment);
    this.save();
    return this.renderEnrollment(enrollment);
  }

  getEnrollment(registrationId: string): JsonObject {
    return this.renderEnrollment(this.enrollment(registrationId));
  }

  deleteEnrollment(registrationId: string, ifMatch: string | undefined): void {
    const enrollment = this.enrollment(registrationId);
    this.checkEtag(enrollment.etag, ifMatch, `enrollment ${registrationId}`);
    this.enrollments.delete(registrationId.toLowerCase());
    this.registrations.delete(registrationId.toLowerCase());
    this.save();
  }

  putGroup(groupId: string, body: JsonValue | undefined, ifMatch: string | undefined): JsonObject {
    checkId('enrollment group', groupId);
    const input = this.objectBody(body);
    const key = groupId.toLowerCase();
    const current = this.groups.get(key);
    this.checkEtag(current?.etag, ifMatch, `enrollment group ${groupId}`);
    const group: EnrollmentGroup = {
      enrollmentGroupId: current?.enrollmentGroupId ?? groupId,
      ...parseSettings(input, true, current, this.now()),
    };
    this.checkCertificates(group, current);
    this.groups.set(key, group);
    this.save();
    return renderGroup(group, certificateInfo);
  }

  getGroup(groupId: string): JsonObject {
    return renderGroup(this.group(groupId), certificateInfo);
  }

  deleteGroup(groupId: string, ifMatch: string | undefined): void {
    const group = this.group(groupId);
    this.checkEtag(group.etag, ifMatch, `enrollment group ${groupId}`);
    this.groups.delete(groupId.toLowerCase());
    for (const [key, state] of this.registrations)
      if (state.enrollmentGroupId?.toLowerCase() === groupId.toLowerCase())
        this.registrations.delete(key);
    this.save();
  }

  /** `POST …/attestationmechanism`: the enrollment's attestation with its keys. */
  attestationMechanism(kind: 'enrollment' | 'group', id: string): JsonObject {
    const settings = kind === 'enrollment' ? this.enrollment(id) : this.group(id);
    const attestation = settings.attestation;
    if (attestation.type !== 'x509') return attestation as unknown as JsonObject;
    return renderEnrollment(
      { registrationId: '', deviceId: null, ...settings },
      undefined,
      certificateInfo,
    )['attestation'] as JsonObject;
  }

  listEnrollments(): JsonObject[] {
    return [...this.enrollments.values()].map((e) => this.renderEnrollment(e));
  }

  listGroups(): JsonObject[] {
    return [...this.groups.values()].map((g) => renderGroup(g, certificateInfo));
  }

  getRegistration(registrationId: string): JsonObject {
    const state = this.registrations.get(registrationId.toLowerCase());
    if (!state) throw notFound(`There is no registration ${registrationId}.`);
    return renderRegistration(state);
  }

  deleteRegistration(registrationId: string, ifMatch: string | undefined): void {
    const state = this.registrations.get(registrationId.toLowerCase());
    if (!state) throw notFound(`There is no registration ${registrationId}.`);
    this.checkEtag(state.etag, ifMatch, `registration ${registrationId}`);
    this.registrations.delete(registrationId.toLowerCase());
    this.save();
  }

  registrationsOfGroup(groupId: string): JsonObject[] {
    this.group(groupId);
    return [...this.registrations.values()]
      .filter((s) => s.enrollmentGroupId?.toLowerCase() === groupId.toLowerCase())
      .map(renderRegistration);
  }

  private renderEnrollment(enrollment: IndividualEnrollment): JsonObject {
    return renderEnrollment(
      enrollment,
      this.registrations.get(enrollment.registrationId.toLowerCase()),
      certificateInfo,
    );
  }

  private enrollment(registrationId: string): IndividualEnrollment {
    const found = this.enrollments.get(registrationId.toLowerCase());
    if (!found) throw notFound(`There is no individual enrollment ${registrationId}.`);
    return found;
  }

  private group(groupId: string): EnrollmentGroup {
    const found = this.groups.get(groupId.toLowerCase());
    if (!found) throw notFound(`There is no enrollment group ${groupId}.`);
    return found;
  }

  private objectBody(body: JsonValue | undefined): JsonObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new ProvisioningError(400, 400004, 'The request body must be a JSON object.');
    return body;
  }

  private checkEtag(current: string | undefined, ifMatch: string | undefined, what: string): void {
    if (ifMatch === undefined || ifMatch === '*' || ifMatch === '') return;
    const strip = (etag: string) => etag.replace(/^W\//, '').replaceAll('"', '');
    if (current === undefined) throw notFound(`There is no ${what} to match If-Match against.`);
    if (strip(current) !== strip(ifMatch))
      throw preconditionFailed(`The etag of ${what} does not match (it is ${current}).`);
  }

  /**
   * Reads each certificate given (its details kept beside it). An update that sends a
   * certificate back as the service read it out (its details, not the certificate) keeps
   * the one stored in that place; one the service never had is refused.
   */
  private checkCertificates(settings: EnrollmentSettings, previous?: EnrollmentSettings): void {
    if (settings.attestation.type !== 'x509') return;
    const before = previous?.attestation.type === 'x509' ? previous.attestation.x509 : undefined;
    const { clientCertificates, signingCertificates } = settings.attestation.x509;
    const places = [
      [clientCertificates?.primary, before?.clientCertificates?.primary],
      [clientCertificates?.secondary, before?.clientCertificates?.secondary],
      [signingCertificates?.primary, before?.signingCertificates?.primary],
      [signingCertificates?.secondary, before?.signingCertificates?.secondary],
    ] as const;
    for (const [entry, stored] of places) {
      if (!entry) continue;
      if (!entry.certificate) {
        if (!stored?.certificate)
          throw new ProvisioningError(
            400,
            400004,
            'A certificate was given by its details only, and the enrollment holds none in its place: send the certificate.',
          );
        entry.certificate = stored.certificate;
      }
      entry.info = certificateInfo(entry.certificate);
    }
  }

  /**
   * The demo's enrollment group (`--seed demo`), made once: symmetric keys, devices of the
   * Berlin site that report telemetry every 30 s, as an operator would set one up.
   */
  seedDemoGroup(): void {
    if (this.groups.has(DEMO_GROUP)) return;
    this.putGroup(
      DEMO_GROUP,
      {
        attestation: { type: 'symmetricKey' },
        initialTwin: {
          tags: {
            site: 'berlin',
            building: 'b2',
            role: 'sensor',
            owner: { team: 'eu-ops' },
            provisionedBy: 'dps',
          },
          properties: { desired: { telemetryInterval: 30 } },
        },
        reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true },
        allocationPolicy: 'hashed',
      },
      undefined,
    );
  }

  // ── Devices registering ─────────────────────────────────────────────────────────────

  /**
   * A device's registration: its credential checked against its enrollment (individual
   * first, then the groups), then assigned to the hub. The operation is done when this
   * returns; the device is told "assigning" and reads the outcome when it polls, as with
   * the service.
   */
  register(
    registrationId: string,
    credential: DeviceCredential,
    /** The device's `payload`: handed to a custom allocation webhook. */
    payload?: JsonValue,
  ): OperationStatus {
    checkId('registration', registrationId);
    const { settings, groupId, deviceKeys } = this.attest(registrationId, credential);
    const operationId = `${randomUUID()}`;
    const remember = (status: OperationStatus) => {
      this.operations.set(operationId, { registrationId: registrationId.toLowerCase(), status });
      if (this.operations.size > 10_000)
        this.operations.delete(this.operations.keys().next().value!);
    };
    if (settings.provisioningStatus === 'disabled') {
      const state = this.record(registrationId, groupId, { status: 'disabled' }, credential);
      remember({ operationId, status: 'disabled', registrationState: renderRegistration(state) });
    } else if (settings.allocationPolicy === 'custom' && settings.customAllocationDefinition) {
      // The webhook answers in its own time; the device polls "assigning" until it has.
      remember({ operationId, status: 'assigning' });
      const fail = (message: string) =>
        remember({
          operationId,
          status: 'failed',
          registrationState: renderRegistration(
            this.record(
              registrationId,
              groupId,
              { status: 'failed', errorCode: 400207, errorMessage: message },
              credential,
            ),
          ),
        });
      void this.allocate(registrationId, settings, groupId, credential, payload)
        .then((allocation) => {
          if (allocation.failure) return fail(allocation.failure);
          // As it is now: the enrollment may have changed while its webhook answered.
          const current = groupId
            ? this.groups.get(groupId.toLowerCase())
            : this.enrollments.get(registrationId.toLowerCase());
          if (!current || current.provisioningStatus !== 'enabled')
            return fail('The enrollment was deleted or disabled while its webhook answered.');
          remember({
            operationId,
            status: 'assigned',
            registrationState: this.assign(
              registrationId,
              current,
              groupId,
              deviceKeys,
              credential,
              allocation,
            ),
          });
        })
        .catch((error: unknown) => {
          try {
            fail(`The registration could not be completed: ${(error as Error).message}`);
          } catch {
            remember({ operationId, status: 'failed' });
          }
        });
    } else {
      remember({
        operationId,
        status: 'assigned',
        registrationState: this.assign(registrationId, settings, groupId, deviceKeys, credential),
      });
    }
    return { operationId, status: 'assigning' };
  }

  /**
   * A custom allocation: the enrollment's webhook is told who registers (the enrollment, the
   * device's context and payload, the hubs it may choose from) and answers the hub, and
   * optionally an initial twin and a payload for the device. Its failures are the device's.
   */
  private async allocate(
    registrationId: string,
    settings: EnrollmentSettings,
    groupId: string | undefined,
    credential: DeviceCredential,
    payload: JsonValue | undefined,
  ): Promise<Allocation> {
    const { webhookUrl } = settings.customAllocationDefinition!;
    // The enrollment as the service describes it to a webhook: its attestation by type only
    // (a group's key would give away every device's).
    const described = (rendered: JsonObject): JsonObject => ({
      ...rendered,
      attestation: { type: settings.attestation.type },
    });
    const enrollment = groupId
      ? { enrollmentGroup: described(this.getGroup(groupId)) }
      : { individualEnrollment: described(this.getEnrollment(registrationId)) };
    const leaf = credential.kind === 'x509' ? credential.chain[0] : undefined;
    const request = {
      ...enrollment,
      deviceRuntimeContext: {
        registrationId,
        ...(credential.kind === 'sas' ? { symmetricKey: {} } : {}),
        ...(leaf ? { x509: { clientCertificate: leaf.toString() } } : {}),
        ...(payload !== undefined ? { payload } : {}),
      },
      linkedHubs: [this.hubHostName],
    };
    let answer: unknown;
    try {
      const response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok)
        return { failure: `The custom allocation webhook answered ${response.status}.` };
      answer = await response.json();
    } catch (error) {
      return {
        failure: `The custom allocation webhook could not be reached or did not answer JSON within 10 s: ${(error as Error).message}`,
      };
    }
    const chosen =
      typeof answer === 'object' && answer !== null
        ? (answer as Record<string, unknown>)['iotHubHostName']
        : undefined;
    if (typeof chosen !== 'string' || chosen.toLowerCase() !== this.hubHostName.toLowerCase())
      return {
        failure: `The custom allocation webhook chose ${JSON.stringify(chosen)}, not a hub linked to this service (${this.hubHostName}).`,
      };
    const reply = answer as Record<string, unknown>;
    let initialTwin: EnrollmentSettings['initialTwin'] | undefined;
    if (reply['initialTwin'] !== undefined && reply['initialTwin'] !== null) {
      try {
        initialTwin = parseSettings(
          { attestation: { type: 'symmetricKey' }, initialTwin: reply['initialTwin'] as JsonValue },
          false,
          undefined,
          this.now(),
        ).initialTwin;
      } catch (error) {
        return {
          failure: `The custom allocation webhook's initialTwin: ${(error as Error).message}`,
        };
      }
    }
    return {
      ...(initialTwin ? { initialTwin } : {}),
      ...(reply['payload'] !== undefined ? { payload: reply['payload'] as JsonValue } : {}),
    };
  }

  operationStatus(
    registrationId: string,
    operationId: string,
    credential: DeviceCredential,
  ): OperationStatus {
    this.attest(registrationId, credential);
    const operation = this.operations.get(operationId);
    if (!operation || operation.registrationId !== registrationId.toLowerCase())
      throw notFound(`There is no operation ${operationId} for registration ${registrationId}.`);
    return operation.status;
  }

  /** Throws unless an enrollment vouches for this credential (MQTT's CONNECT). */
  checkCredential(registrationId: string, credential: DeviceCredential): void {
    this.attest(registrationId, credential);
  }

  private attest(
    registrationId: string,
    credential: DeviceCredential,
  ): { settings: EnrollmentSettings; groupId?: string; deviceKeys?: [string, string] } {
    const individual = this.enrollments.get(registrationId.toLowerCase());
    if (credential.kind === 'sas') {
      const token = parseSasToken(credential.token);
      if (!token) throw unauthorized('The registration has no valid SharedAccessSignature.');
      if (Number(token.se) * 1000 < Date.now())
        throw unauthorized('The shared access signature has expired.');
      let audience: string;
      let given: string;
      try {
        audience = decodeURIComponent(token.sr).toLowerCase();
        given = decodeURIComponent(token.sig);
      } catch {
        throw unauthorized('The token is not correctly URL-encoded.');
      }
      if (audience !== `${this.idScope}/registrations/${registrationId}`.toLowerCase())
        throw unauthorized(
          `The token is for ${audience}, not ${this.idScope}/registrations/${registrationId}.`,
        );
      const signedBy = (keys: string[]) =>
        keys.some((key) => sameSignature(given, sign(token.sr, token.se, key)));
      if (individual?.attestation.type === 'symmetricKey') {
        const { primaryKey, secondaryKey } = individual.attestation.symmetricKey;
        if (!signedBy([primaryKey, secondaryKey]))
          throw unauthorized(
            `The signature does not match the keys of enrollment ${registrationId}.`,
          );
        return { settings: individual, deviceKeys: [primaryKey, secondaryKey] };
      }
      if (individual)
        throw unauthorized(`Enrollment ${registrationId} does not attest with symmetric keys.`);
      for (const group of this.groups.values()) {
        if (group.attestation.type !== 'symmetricKey') continue;
        const keys = [
          group.attestation.symmetricKey.primaryKey,
          group.attestation.symmetricKey.secondaryKey,
        ].map((key) => deriveDeviceKey(key, registrationId)) as [string, string];
        if (signedBy(keys))
          return { settings: group, groupId: group.enrollmentGroupId, deviceKeys: keys };
      }
      throw unauthorized(
        `No enrollment of ${registrationId} and no symmetric-key group vouches for this signature.`,
      );
    }
    if (credential.kind === 'x509') {
      const leaf = credential.chain[0];
      if (!leaf) throw unauthorized('No client certificate was presented.');
      const now = Date.now();
      if (now < Date.parse(leaf.validFrom) || now >= Date.parse(leaf.validTo))
        throw unauthorized('The client certificate is not valid now.');
      if (commonName(leaf)?.toLowerCase() !== registrationId.toLowerCase())
        throw unauthorized(
          `The certificate's common name is '${commonName(leaf) ?? ''}', not the registration id ${registrationId}.`,
        );
      if (individual?.attestation.type === 'x509') {
        const { clientCertificates } = individual.attestation.x509;
        const matches = [clientCertificates?.primary, clientCertificates?.secondary].some(
          (entry) =>
            entry?.certificate &&
            readCertificate(entry.certificate).fingerprint256 === leaf.fingerprint256,
        );
        if (!matches) throw unauthorized(`The certificate is not enrollment ${registrationId}'s.`);
        return { settings: individual };
      }
      if (individual)
        throw unauthorized(`Enrollment ${registrationId} does not attest with X.509.`);
      for (const group of this.groups.values()) {
        if (group.attestation.type !== 'x509') continue;
        const { signingCertificates } = group.attestation.x509;
        const anchors = [signingCertificates?.primary, signingCertificates?.secondary]
          .filter((entry) => entry?.certificate)
          .map((entry) => readCertificate(entry!.certificate!));
        if (anchors.some((anchor) => chainReaches(credential.chain, anchor)))
          return { settings: group, groupId: group.enrollmentGroupId };
      }
      throw unauthorized(
        `No enrollment of ${registrationId} and no X.509 group's signing certificate vouches for this certificate.`,
      );
    }
    if (individual?.attestation.type === 'tpm')
      throw new ProvisioningError(
        401,
        401002,
        'TPM attestation is not supported by this emulator: enrollments are kept and listed, but a TPM device cannot register.',
      );
    throw unauthorized(
      'The registration carries no credential (a SharedAccessSignature or a client certificate).',
    );
  }

  /**
   * Assigns the registration to the hub: its device created there (or, for a device
   * registering again, kept or reset as the reprovisioning policy says).
   */
  private assign(
    registrationId: string,
    settings: EnrollmentSettings,
    groupId: string | undefined,
    deviceKeys: [string, string] | undefined,
    credential: DeviceCredential,
    allocation: Allocation = {},
  ): JsonObject {
    const individual =
      groupId === undefined ? this.enrollments.get(registrationId.toLowerCase()) : undefined;
    const deviceId = individual?.deviceId ?? registrationId;
    const previous = this.registrations.get(registrationId.toLowerCase());
    const again = previous?.status === 'assigned' && previous.deviceId !== undefined;
    const { updateHubAssignment, migrateDeviceData } = settings.reprovisionPolicy;
    // One hub: re-provisioning never moves the device; the policy decides its data.
    if (again && !updateHubAssignment) {
      const state = this.record(
        registrationId,
        groupId,
        {
          status: 'assigned',
          assignedHub: previous.assignedHub ?? this.hubHostName,
          deviceId: previous.deviceId!,
          substatus: previous.substatus ?? 'initialAssignment',
        },
        credential,
      );
      return renderRegistration(state);
    }
    const authentication: Authentication =
      credential.kind === 'x509'
        ? {
            type: groupId === undefined ? 'selfSigned' : 'certificateAuthority',
            symmetricKey: { primaryKey: null, secondaryKey: null },
            x509Thumbprint:
              groupId === undefined
                ? {
                    primaryThumbprint: credential.chain[0]!.fingerprint.replaceAll(
                      ':',
                      '',
                    ).toUpperCase(),
                    secondaryThumbprint: null,
                  }
                : { primaryThumbprint: null, secondaryThumbprint: null },
          }
        : {
            type: 'sas',
            symmetricKey: { primaryKey: deviceKeys![0], secondaryKey: deviceKeys![1] },
            x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
          };
    const input = {
      status: 'enabled' as const,
      statusReason: null,
      authentication,
      iotEdge: settings.capabilities.iotEdge,
      parentScopes: [],
    };
    // A custom allocation's initial twin, when its webhook gave one, else the enrollment's.
    const initial = allocation.initialTwin ?? settings.initialTwin;
    const twin = {
      tags: initial?.tags ?? {},
      desired: initial?.properties?.desired ?? {},
    };
    let substatus: Substatus = 'initialAssignment';
    try {
      const existing = this.registry.find(deviceId);
      if (!existing) {
        this.registry.createDevice(deviceId, input);
        this.registry.replaceTwin(deviceId, undefined, twin, undefined);
      } else {
        this.registry.updateDevice(deviceId, { ...input, status: existing.status }, undefined);
        if (again && !migrateDeviceData) {
          this.registry.replaceTwin(deviceId, undefined, twin, undefined);
          substatus = 'deviceDataReset';
        } else if (again) {
          substatus = 'deviceDataMigrated';
        } else {
          // A device the hub had before its first registration keeps its data.
          substatus = 'initialAssignment';
        }
      }
    } catch (error) {
      const message = error instanceof HubError ? error.message : String(error);
      const state = this.record(
        registrationId,
        groupId,
        {
          status: 'failed',
          errorCode: 500000,
          errorMessage: `The device could not be assigned to ${this.hubHostName}: ${message}`,
        },
        credential,
      );
      return renderRegistration(state);
    }
    const state = this.record(
      registrationId,
      groupId,
      {
        status: 'assigned',
        assignedHub: this.hubHostName,
        deviceId,
        substatus,
        // What a custom allocation webhook gave back for the device.
        ...(allocation.payload !== undefined ? { payload: allocation.payload } : {}),
      },
      credential,
    );
    return renderRegistration(state);
  }

  /**
   * The registration's record, with how the device attested (its certificate's details, the
   * group it came through). A device's `payload` goes to a custom allocation webhook on the
   * service, and what a record carries back is the webhook's: none is kept here.
   */
  private record(
    registrationId: string,
    groupId: string | undefined,
    outcome: Pick<RegistrationState, 'status'> & Partial<RegistrationState>,
    credential: DeviceCredential,
  ): RegistrationState {
    const group: JsonObject = groupId ? { enrollmentGroupId: groupId } : {};
    const leaf = credential.kind === 'x509' ? credential.chain[0] : undefined;
    const signing = groupId ? this.groups.get(groupId.toLowerCase()) : undefined;
    const signingPem =
      signing?.attestation.type === 'x509'
        ? signing.attestation.x509.signingCertificates?.primary?.certificate
        : undefined;
    const attestation: Partial<RegistrationState> =
      credential.kind === 'sas'
        ? { symmetricKey: group }
        : leaf
          ? {
              x509: {
                certificateInfo: certificateInfo(leaf.toString()),
                ...group,
                ...(signingPem ? { signingCertificateInfo: certificateInfo(signingPem) } : {}),
              },
            }
          : {};
    const at = this.now();
    const previous = this.registrations.get(registrationId.toLowerCase());
    const state: RegistrationState = {
      registrationId,
      createdDateTimeUtc: previous?.createdDateTimeUtc ?? at,
      ...outcome,
      lastUpdatedDateTimeUtc: at,
      etag: newEtag(),
      ...attestation,
      ...(groupId ? { enrollmentGroupId: groupId } : {}),
    };
    this.registrations.set(registrationId.toLowerCase(), state);
    this.save();
    return state;
  }
}
