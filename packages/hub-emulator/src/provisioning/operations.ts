// The provisioning service's HTTPS operations as one table, as the hub's are (operations/):
// each row its method and path, the shared access right its service API needs (devices
// prove themselves with their own credential instead), and what it does. The HTTP surface
// (http.ts) matches a request to a row, checks its caller, and answers what the row answers.
import type { IncomingMessage } from 'node:http';
import type { JsonObject, JsonValue } from '@twinscope/twin';
import { ProvisioningError, RETRY_AFTER_SECONDS } from './errors.ts';
import type { DeviceCredential, Provisioning, ProvisioningRight } from './provisioning.ts';

/** The service API's own top-level paths (lower case); a device's path starts with its id scope. */
export const SERVICE_TOPS: ReadonlySet<string> = new Set([
  'enrollments',
  'enrollmentgroups',
  'registrations',
]);

export interface ProvisioningCall {
  provisioning: Provisioning;
  /** Path parameters, decoded (`:id` → params.id). */
  params: Record<string, string>;
  body: JsonValue | undefined;
  request: IncomingMessage;
  /** A device's credential (its SAS token or TLS certificate); service rows have none. */
  device: DeviceCredential;
}

export interface ProvisioningAnswer {
  status: number;
  body?: JsonValue;
  headers?: Record<string, string>;
}

export interface ProvisioningOperation {
  name: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** `/enrollments/:id`: literal segments match case-insensitively, `:name` takes one. */
  path: string;
  /**
   * Who may call it: a device registering under the path's id scope, or the service API
   * with a shared access policy holding `right` (or an Entra token: Data Reader for reads,
   * Data Contributor when `entraWrite`).
   */
  caller: { device: true } | { right: ProvisioningRight; entraWrite: boolean };
  handle(call: ProvisioningCall): ProvisioningAnswer;
}

const header = (request: IncomingMessage, name: string) => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** A page of a listing, as the service's query API pages it (`x-ms-continuation`). */
function page(request: IncomingMessage, items: JsonObject[], itemType: string): ProvisioningAnswer {
  const size = Math.max(1, Math.min(Number(header(request, 'x-ms-max-item-count')) || 100, 1000));
  const continuation = header(request, 'x-ms-continuation');
  const from = continuation && /^\d+$/.test(continuation) ? Number(continuation) : 0;
  return {
    status: 200,
    body: items.slice(from, from + size),
    headers: {
      'x-ms-item-type': itemType,
      ...(from + size < items.length ? { 'x-ms-continuation': String(from + size) } : {}),
    },
  };
}

const ifMatch = (request: IncomingMessage) => header(request, 'if-match');

/**
 * `POST /enrollments` with `{ mode, enrollments }`: each one created, updated or deleted on
 * its own; the answer lists the ones that failed.
 */
function bulk(provisioning: Provisioning, body: JsonValue | undefined): JsonObject {
  const input = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  const mode = input['mode'];
  const enrollments = input['enrollments'];
  if (
    !['create', 'update', 'updateIfMatchETag', 'delete'].includes(mode as string) ||
    !Array.isArray(enrollments)
  )
    throw new ProvisioningError(
      400,
      400004,
      'A bulk operation needs mode (create, update, updateIfMatchETag or delete) and enrollments.',
    );
  const errors: JsonObject[] = [];
  for (const item of enrollments) {
    const enrollment =
      typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {};
    const id = typeof enrollment['registrationId'] === 'string' ? enrollment['registrationId'] : '';
    const etag = typeof enrollment['etag'] === 'string' ? enrollment['etag'] : undefined;
    try {
      if (mode === 'delete') provisioning.deleteEnrollment(id, etag);
      else {
        if (mode === 'create') {
          let exists = true;
          try {
            provisioning.getEnrollment(id);
          } catch {
            exists = false;
          }
          if (exists) throw new ProvisioningError(409, 409201, `Enrollment ${id} already exists.`);
        }
        provisioning.putEnrollment(id, enrollment, mode === 'updateIfMatchETag' ? etag : undefined);
      }
    } catch (error) {
      const failure =
        error instanceof ProvisioningError
          ? error
          : new ProvisioningError(500, 500000, String(error));
      errors.push({
        registrationId: id,
        errorCode: failure.errorCode,
        errorStatus: failure.message,
      });
    }
  }
  return { isSuccessful: errors.length === 0, errors };
}

const ok = (body: JsonValue): ProvisioningAnswer => ({ status: 200, body });
const read = (right: ProvisioningRight) => ({ right, entraWrite: false });
const write = (right: ProvisioningRight) => ({ right, entraWrite: true });

/** Enrollments and groups share their rows but for the bulk API (enrollments only). */
function enrollmentRows(kind: 'enrollment' | 'group'): ProvisioningOperation[] {
  const top = kind === 'enrollment' ? '/enrollments' : '/enrollmentGroups';
  const what = kind === 'enrollment' ? 'enrollment' : 'enrollment-group';
  return [
    {
      name: `query-${what}s`,
      method: 'POST',
      path: `${top}/query`,
      caller: read('EnrollmentRead'),
      handle: ({ provisioning, request }) =>
        kind === 'enrollment'
          ? page(request, provisioning.listEnrollments(), 'enrollment')
          : page(request, provisioning.listGroups(), 'enrollmentGroup'),
    },
    {
      // The attestation with its keys: a read for a policy, a Data Contributor's for Entra.
      name: `${what}-attestation-mechanism`,
      method: 'POST',
      path: `${top}/:id/attestationmechanism`,
      caller: write('EnrollmentRead'),
      handle: ({ provisioning, params }) =>
        ok(provisioning.attestationMechanism(kind, params['id']!)),
    },
    {
      name: `put-${what}`,
      method: 'PUT',
      path: `${top}/:id`,
      caller: write('EnrollmentWrite'),
      handle: ({ provisioning, params, body, request }) =>
        ok(
          kind === 'enrollment'
            ? provisioning.putEnrollment(params['id']!, body, ifMatch(request))
            : provisioning.putGroup(params['id']!, body, ifMatch(request)),
        ),
    },
    {
      name: `get-${what}`,
      method: 'GET',
      path: `${top}/:id`,
      caller: read('EnrollmentRead'),
      handle: ({ provisioning, params }) =>
        ok(
          kind === 'enrollment'
            ? provisioning.getEnrollment(params['id']!)
            : provisioning.getGroup(params['id']!),
        ),
    },
    {
      name: `delete-${what}`,
      method: 'DELETE',
      path: `${top}/:id`,
      caller: write('EnrollmentWrite'),
      handle: ({ provisioning, params, request }) => {
        if (kind === 'enrollment') provisioning.deleteEnrollment(params['id']!, ifMatch(request));
        else provisioning.deleteGroup(params['id']!, ifMatch(request));
        return { status: 204 };
      },
    },
  ];
}

export const provisioningOperations: readonly ProvisioningOperation[] = [
  {
    name: 'register-device',
    method: 'PUT',
    path: '/:idScope/registrations/:registrationId/register',
    caller: { device: true },
    handle: ({ provisioning, params, body, device }) => {
      const registrationId = params['registrationId']!;
      const given = (body as JsonObject | undefined)?.['registrationId'];
      if (typeof given === 'string' && given.toLowerCase() !== registrationId.toLowerCase())
        throw new ProvisioningError(
          400,
          400004,
          `The body's registrationId '${given}' is not the path's '${registrationId}'.`,
        );
      const payload = (body as JsonObject | undefined)?.['payload'];
      return {
        status: 202,
        body: { ...provisioning.register(registrationId, device, payload) },
        headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
      };
    },
  },
  {
    name: 'device-operation-status',
    method: 'GET',
    path: '/:idScope/registrations/:registrationId/operations/:operationId',
    caller: { device: true },
    handle: ({ provisioning, params, device }) => {
      const result = provisioning.operationStatus(
        params['registrationId']!,
        params['operationId']!,
        device,
      );
      const assigning = result.status === 'assigning';
      const headers: Record<string, string> = assigning
        ? { 'retry-after': String(RETRY_AFTER_SECONDS) }
        : {};
      return { status: assigning ? 202 : 200, body: { ...result }, headers };
    },
  },
  {
    name: 'bulk-enrollments',
    method: 'POST',
    path: '/enrollments',
    caller: write('EnrollmentWrite'),
    handle: ({ provisioning, body }) => ok(bulk(provisioning, body)),
  },
  ...enrollmentRows('enrollment'),
  ...enrollmentRows('group'),
  {
    name: 'query-group-registrations',
    method: 'POST',
    path: '/registrations/:id/query',
    caller: read('RegistrationStatusRead'),
    handle: ({ provisioning, params, request }) =>
      page(request, provisioning.registrationsOfGroup(params['id']!), 'deviceRegistration'),
  },
  {
    name: 'get-registration',
    method: 'GET',
    path: '/registrations/:id',
    caller: read('RegistrationStatusRead'),
    handle: ({ provisioning, params }) => ok(provisioning.getRegistration(params['id']!)),
  },
  {
    name: 'delete-registration',
    method: 'DELETE',
    path: '/registrations/:id',
    caller: write('RegistrationStatusWrite'),
    handle: ({ provisioning, params, request }) => {
      provisioning.deleteRegistration(params['id']!, ifMatch(request));
      return { status: 204 };
    },
  },
];

/** The row a path names (and its parameters), or why none: 404, or 405 for another method. */
export function matchOperation(
  method: string,
  segments: readonly string[],
): { operation: ProvisioningOperation; params: Record<string, string> } {
  let pathKnown = false;
  for (const operation of provisioningOperations) {
    const pattern = operation.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, i) => {
      const segment = segments[i]!;
      if (part.startsWith(':')) {
        params[part.slice(1)] = segment;
        return segment !== '';
      }
      return part.toLowerCase() === segment.toLowerCase();
    });
    if (!matches) continue;
    // A device's path is the id scope's; a service path's first segment is its own.
    if ('device' in operation.caller && SERVICE_TOPS.has(segments[0]!.toLowerCase())) continue;
    pathKnown = true;
    if (operation.method === method) return { operation, params };
  }
  if (pathKnown)
    throw new ProvisioningError(
      405,
      405000,
      `${method} is not supported on /${segments.join('/')}.`,
    );
  throw new ProvisioningError(
    404,
    404000,
    `The provisioning service has no operation ${method} /${segments.join('/')}.`,
  );
}
