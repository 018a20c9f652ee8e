import {
  abortableHubCall,
  provisioningClientFor,
  provisioningClientForCredential,
  type HubTokenCredential,
} from '@twinscope/hub-connection';
import { isJsonObject, type JsonObject } from '@twinscope/twin';
import { AppError } from '../core/app-error.ts';
import { NOT_SENT, type SdkError } from './iothub/errors.ts';

/** A record as the provisioning service's API writes it (enrollment, group, registration). */
export type DpsRecord = JsonObject;

export type DpsKind = 'group' | 'individual';

/**
 * The Device Provisioning Service's service API, through Microsoft's unmodified
 * `azure-iot-provisioning-service` client: enrollments and groups, their attestation
 * mechanisms, and registration records. Every call has a deadline; what the SDK raises
 * leaves as an AppError in the operator's words.
 */
export interface ProvisioningAdapter {
  /** The service's host name (what the console shows as "the service"). */
  readonly hostName: string;
  list(kind: DpsKind, limit: number): Promise<{ items: DpsRecord[]; truncated: boolean }>;
  get(kind: DpsKind, id: string): Promise<DpsRecord>;
  /** The attestation with its keys (never leaves the BFF): what an update writes back. */
  attestation(kind: DpsKind, id: string): Promise<DpsRecord>;
  save(kind: DpsKind, record: DpsRecord): Promise<DpsRecord>;
  remove(kind: DpsKind, id: string, etag?: string): Promise<void>;
  registrationsOfGroup(groupId: string, limit: number): Promise<DpsRecord[]>;
  /** A registration record, or undefined when there is none. */
  registration(registrationId: string): Promise<DpsRecord | undefined>;
  removeRegistration(registrationId: string, etag?: string): Promise<void>;
}

export interface ProvisioningConnection {
  connectionString?: string;
  /** Entra access: the service's host name, and a credential with a DPS data-plane role. */
  entra?: { hostName: string; credential: HubTokenCredential };
  ca?: string;
  deadlineMs: number;
}

/** The service's own words from its error body (`{ errorCode, message }`). */
function serviceMessage(error: SdkError): string {
  const body = error.responseBody === undefined ? '' : String(error.responseBody);
  try {
    const parsed: unknown = JSON.parse(body);
    if (isJsonObject(parsed) && typeof parsed['message'] === 'string') return parsed['message'];
  } catch {
    // Not JSON: the SDK's message is what there is.
  }
  return error.message && error.message !== 'Error' ? error.message : 'it refused the request';
}

/** What the SDK raised → the contract's codes, worded for DPS; never SDK internals. */
export function mapProvisioningError(
  error: unknown,
  what: string,
  kind: 'read' | 'write',
): AppError {
  if (error instanceof AppError) return error;
  const e = error as SdkError;
  const status = e.response?.statusCode;
  if (status === 404) return new AppError('not_found', `${what} was not found.`);
  if (status === 412)
    return new AppError('conflict', `${what} was changed by someone else since you loaded it.`);
  if (status === 409) return new AppError('conflict', `${what}: ${serviceMessage(e)}`);
  if (status === 400) return new AppError('validation_failed', serviceMessage(e));
  if (status === 401 || status === 403)
    return new AppError(
      'hub_error',
      "The provisioning service refused Twinscope's credentials (expired, or no DPS data-plane role). Ask an administrator to check the BFF's provisioning settings.",
      { cause: error },
    );
  if (status === 429) {
    const seconds = Number(e.response?.headers?.['retry-after']);
    return new AppError('throttled', 'The provisioning service is throttling; try again shortly.', {
      ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterSeconds: seconds } : {}),
    });
  }
  if (status !== undefined)
    return new AppError(
      'hub_error',
      `The provisioning service answered ${status}: ${serviceMessage(e)}`,
      {
        cause: error,
      },
    );
  if (kind === 'write' && !(e.code && NOT_SENT.has(e.code)))
    return new AppError(
      'outcome_unknown',
      `The provisioning service did not answer about ${what}, so whether the change was applied is unknown. Reload it before trying again.`,
      { cause: error },
    );
  return new AppError('hub_unreachable', 'The provisioning service cannot be reached.', {
    cause: error,
  });
}

const PATHS = { group: 'Enrollment group', individual: 'Enrollment' } as const;

/** A service query's pages, read until it has `limit` records or none are left. */
async function drain(
  query: { next(): Promise<unknown>; hasMoreResults: boolean },
  limit: number,
): Promise<DpsRecord[]> {
  const items: DpsRecord[] = [];
  while (items.length < limit) {
    const page = (await query.next()) as { responseBody?: unknown };
    if (Array.isArray(page.responseBody)) items.push(...page.responseBody.filter(isJsonObject));
    if (!query.hasMoreResults) break;
  }
  return items.slice(0, limit);
}

export function createProvisioningAdapter(connection: ProvisioningConnection): ProvisioningAdapter {
  const options = {
    ...(connection.ca ? { ca: connection.ca } : {}),
    requestTimeoutMs: connection.deadlineMs,
  };
  const client = connection.connectionString
    ? provisioningClientFor(connection.connectionString, options)
    : provisioningClientForCredential(
        connection.entra!.hostName,
        connection.entra!.credential,
        options,
      );
  const hostName =
    /HostName=([^;]+)/i.exec(connection.connectionString ?? '')?.[1] ??
    connection.entra?.hostName ??
    '';

  /** One SDK call, abandoned at the deadline; its failure mapped. */
  async function call<T>(
    what: string,
    kind: 'read' | 'write',
    start: () => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(connection.deadlineMs);
    try {
      return await abortableHubCall(signal, start);
    } catch (error) {
      throw mapProvisioningError(error, what, kind);
    }
  }
  const body = (answer: unknown): DpsRecord => {
    const value = (answer as { responseBody?: unknown } | undefined)?.responseBody;
    return isJsonObject(value) ? value : {};
  };

  return {
    hostName,
    async list(kind, limit) {
      const query =
        kind === 'group'
          ? client.createEnrollmentGroupQuery({ query: '*' }, 100)
          : client.createIndividualEnrollmentQuery({ query: '*' }, 100);
      const items = await call(
        kind === 'group' ? 'The enrollment groups' : 'The enrollments',
        'read',
        () => drain(query, limit + 1),
      );
      return { items: items.slice(0, limit), truncated: items.length > limit };
    },
    async get(kind, id) {
      return call(`${PATHS[kind]} ${id}`, 'read', async () =>
        body(
          kind === 'group'
            ? await client.getEnrollmentGroup(id)
            : await client.getIndividualEnrollment(id),
        ),
      );
    },
    async attestation(kind, id) {
      return call(`${PATHS[kind]} ${id}`, 'read', async () =>
        body(
          kind === 'group'
            ? await client.getEnrollmentGroupAttestationMechanism(id)
            : await client.getIndividualEnrollmentAttestationMechanism(id),
        ),
      );
    },
    async save(kind, record) {
      const id = String(kind === 'group' ? record['enrollmentGroupId'] : record['registrationId']);
      return call(`${PATHS[kind]} ${id}`, 'write', async () =>
        body(
          kind === 'group'
            ? await client.createOrUpdateEnrollmentGroup(record as never)
            : await client.createOrUpdateIndividualEnrollment(record as never),
        ),
      );
    },
    async remove(kind, id, etag) {
      await call(`${PATHS[kind]} ${id}`, 'write', async () => {
        if (kind === 'group') await client.deleteEnrollmentGroup(id, etag as string);
        else await client.deleteIndividualEnrollment(id, etag as string);
      });
    },
    async registrationsOfGroup(groupId, limit) {
      const query = client.createEnrollmentGroupDeviceRegistrationStateQuery(
        { query: '*' },
        groupId,
        100,
      );
      return call(`The registrations of enrollment group ${groupId}`, 'read', () =>
        drain(query, limit),
      );
    },
    async registration(registrationId) {
      try {
        return await call(`Registration ${registrationId}`, 'read', async () =>
          body(await client.getDeviceRegistrationState(registrationId)),
        );
      } catch (error) {
        if (error instanceof AppError && error.code === 'not_found') return undefined;
        throw error;
      }
    },
    async removeRegistration(registrationId, etag) {
      await call(`Registration ${registrationId}`, 'write', async () => {
        await client.deleteDeviceRegistrationState(registrationId, etag as string);
      });
    },
  };
}
