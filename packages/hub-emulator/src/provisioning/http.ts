// The Device Provisioning Service over HTTPS, on the hub's HTTPS port: devices register at
// `/{idScope}/registrations/{registrationId}/register` and poll their operation; operators
// manage enrollments, groups and registration states under `/enrollments`,
// `/enrollmentGroups` and `/registrations`. No path of the hub's own API looks like these.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { verifyProvisioningBearer, type EntraAccess } from '../auth/entra.ts';
import { clientCertificateOf } from '../auth/x509.ts';
import { MAX_BODY_BYTES, readBody } from '../http/body.ts';
import { jsonNestingBeyond, parseJson, type JsonObject, type JsonValue } from '@twinscope/twin';
import { asProvisioningError, ProvisioningError, RETRY_AFTER_SECONDS } from './errors.ts';
import type { DeviceCredential, Provisioning, ProvisioningRight } from './provisioning.ts';

/**
 * Whether a request path is the provisioning service's rather than the hub's: its own top
 * level (`/enrollments`, `/enrollmentGroups`, `/registrations`), or a device's
 * `/{idScope}/registrations/…` whose first segment is none of the hub's (`hubTops`: a hub
 * device may be named "registrations").
 */
export function isProvisioningPath(path: string, hubTops: ReadonlySet<string>): boolean {
  const [first, second] = path.split('/').slice(1);
  const top = first?.toLowerCase() ?? '';
  return (
    top === 'enrollments' ||
    top === 'enrollmentgroups' ||
    top === 'registrations' ||
    (second?.toLowerCase() === 'registrations' && !hubTops.has(top))
  );
}

/** The request's JSON body: limited in size and depth, as the hub's API reads its own. */
async function readJsonBody(request: IncomingMessage): Promise<JsonValue | undefined> {
  const bytes = await readBody(
    request,
    () =>
      new ProvisioningError(
        413,
        413000,
        `Request bodies are limited to ${MAX_BODY_BYTES / 1024} KB.`,
      ),
  );
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  if (jsonNestingBeyond(text))
    throw new ProvisioningError(400, 400004, 'The request body is nested too deeply.');
  try {
    return parseJson(text);
  } catch {
    throw new ProvisioningError(400, 400004, 'The request body is not valid JSON.');
  }
}

function send(
  response: ServerResponse,
  status: number,
  body?: JsonValue,
  headers: Record<string, string> = {},
): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

/** A page of a listing, as the service's query API pages it (`x-ms-continuation`). */
function page(
  request: IncomingMessage,
  response: ServerResponse,
  items: JsonObject[],
  itemType: string,
): void {
  const size = Math.max(1, Math.min(Number(request.headers['x-ms-max-item-count']) || 100, 1000));
  const continuation = request.headers['x-ms-continuation'];
  const from =
    typeof continuation === 'string' && /^\d+$/.test(continuation) ? Number(continuation) : 0;
  const next: Record<string, string> =
    from + size < items.length ? { 'x-ms-continuation': String(from + size) } : {};
  send(response, 200, items.slice(from, from + size), { 'x-ms-item-type': itemType, ...next });
}

const ifMatch = (request: IncomingMessage) => {
  const value = request.headers['if-match'];
  return typeof value === 'string' ? value : undefined;
};

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

/**
 * The provisioning service's HTTP surface as one handler for the hub's HTTPS server, which
 * calls it for the paths `isProvisioningPath` claims.
 */
export function provisioningApi(
  provisioning: Provisioning,
  hostNames: ReadonlySet<string>,
  log?: (line: string) => void,
  /** Entra access to the service API (tokens for https://azure-devices-provisioning.net). */
  entra?: EntraAccess,
) {
  return async (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ): Promise<void> => {
    const method = request.method ?? 'GET';
    const segments = path
      .split('/')
      .slice(1)
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      });
    let status: number;
    try {
      const body = await readJsonBody(request);
      const [first, second, third, fourth, fifth] = segments;
      const top = first?.toLowerCase();
      if (
        second?.toLowerCase() === 'registrations' &&
        top !== 'registrations' &&
        top !== 'enrollments' &&
        top !== 'enrollmentgroups'
      ) {
        // A device: `/{idScope}/registrations/{registrationId}/register` or `…/operations/{id}`.
        if (first!.toLowerCase() !== provisioning.idScope.toLowerCase())
          throw new ProvisioningError(
            401,
            401002,
            `The id scope ${first} is not this provisioning service's (${provisioning.idScope}).`,
          );
        const registrationId = third ?? '';
        const authorization = request.headers.authorization;
        const certificate =
          request.socket instanceof TLSSocket ? clientCertificateOf(request.socket) : undefined;
        const credential: DeviceCredential = authorization
          ? { kind: 'sas', token: authorization }
          : certificate
            ? { kind: 'x509', chain: certificate.chain }
            : { kind: 'none' };
        if (method === 'PUT' && fourth === 'register' && fifth === undefined) {
          const given = (body as JsonObject | undefined)?.['registrationId'];
          if (typeof given === 'string' && given.toLowerCase() !== registrationId.toLowerCase())
            throw new ProvisioningError(
              400,
              400004,
              `The body's registrationId '${given}' is not the path's '${registrationId}'.`,
            );
          const payload = (body as JsonObject | undefined)?.['payload'];
          const started = provisioning.register(registrationId, credential, payload);
          status = 202;
          send(response, 202, { ...started }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
        } else if (method === 'GET' && fourth === 'operations' && fifth) {
          const result = provisioning.operationStatus(registrationId, fifth, credential);
          status = result.status === 'assigning' ? 202 : 200;
          send(
            response,
            status,
            { ...result },
            status === 202 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {},
          );
        } else {
          throw new ProvisioningError(
            404,
            404000,
            `The provisioning service has no operation ${method} ${path}.`,
          );
        }
      } else {
        const authorization = request.headers.authorization;
        // Reads: GET, and the POSTs that query; anything else changes, or reveals keys.
        const write = !(
          method === 'GET' ||
          (method === 'POST' && third === 'query') ||
          (method === 'POST' && second === 'query')
        );
        // The right a shared access policy needs for it, as the service names them.
        const enrollments = top === 'enrollments' || top === 'enrollmentgroups';
        const needs: ProvisioningRight = enrollments
          ? write && third?.toLowerCase() !== 'attestationmechanism'
            ? 'EnrollmentWrite'
            : 'EnrollmentRead'
          : method === 'DELETE'
            ? 'RegistrationStatusWrite'
            : 'RegistrationStatusRead';
        if (authorization?.startsWith('Bearer ')) {
          try {
            verifyProvisioningBearer(authorization, entra, write);
          } catch (error) {
            throw new ProvisioningError(401, 401002, (error as Error).message);
          }
        } else provisioning.verifyServiceToken(authorization, hostNames, needs);
        const id = second ?? '';
        if (top === 'enrollments' || top === 'enrollmentgroups') {
          const kind = top === 'enrollments' ? 'enrollment' : 'group';
          if (method === 'POST' && second === undefined && kind === 'enrollment') {
            status = 200;
            send(response, 200, bulk(provisioning, body));
          } else if (method === 'POST' && second === 'query' && third === undefined) {
            status = 200;
            if (kind === 'enrollment')
              page(request, response, provisioning.listEnrollments(), 'enrollment');
            else page(request, response, provisioning.listGroups(), 'enrollmentGroup');
          } else if (method === 'POST' && third?.toLowerCase() === 'attestationmechanism') {
            status = 200;
            send(response, 200, provisioning.attestationMechanism(kind, id));
          } else if (third !== undefined || !second) {
            throw new ProvisioningError(
              404,
              404000,
              `The provisioning service has no operation ${method} ${path}.`,
            );
          } else if (method === 'PUT') {
            status = 200;
            send(
              response,
              200,
              kind === 'enrollment'
                ? provisioning.putEnrollment(id, body, ifMatch(request))
                : provisioning.putGroup(id, body, ifMatch(request)),
            );
          } else if (method === 'GET') {
            status = 200;
            send(
              response,
              200,
              kind === 'enrollment' ? provisioning.getEnrollment(id) : provisioning.getGroup(id),
            );
          } else if (method === 'DELETE') {
            if (kind === 'enrollment') provisioning.deleteEnrollment(id, ifMatch(request));
            else provisioning.deleteGroup(id, ifMatch(request));
            status = 204;
            send(response, 204);
          } else {
            throw new ProvisioningError(405, 405000, `${method} is not supported on ${path}.`);
          }
        } else if (method === 'POST' && third === 'query') {
          status = 200;
          page(request, response, provisioning.registrationsOfGroup(id), 'deviceRegistration');
        } else if (method === 'GET' && second && third === undefined) {
          status = 200;
          send(response, 200, provisioning.getRegistration(id));
        } else if (method === 'DELETE' && second && third === undefined) {
          provisioning.deleteRegistration(id, ifMatch(request));
          status = 204;
          send(response, 204);
        } else {
          throw new ProvisioningError(
            404,
            404000,
            `The provisioning service has no operation ${method} ${path}.`,
          );
        }
      }
    } catch (caught) {
      const error = asProvisioningError(caught);
      if (!(caught instanceof ProvisioningError))
        console.error(
          `${method} ${path} failed:`,
          caught instanceof Error ? caught.message : caught,
        );
      status = error.status;
      send(
        response,
        error.status,
        error.body(),
        error.retryAfter ? { 'retry-after': String(error.retryAfter) } : {},
      );
    }
    log?.(`${method} ${path} ${status} (provisioning)`);
  };
}
