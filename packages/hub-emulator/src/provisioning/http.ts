// The Device Provisioning Service over HTTPS, on the hub's HTTPS port: a request is matched to
// a row of its operation table (operations.ts), its caller checked (a device's credential, or
// a shared access policy's right or an Entra role for the service API), and answered with
// the service's JSON. No path of the hub's own API looks like these.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { verifyProvisioningBearer, type EntraAccess } from '../auth/entra.ts';
import { clientCertificateOf } from '../auth/x509.ts';
import { MAX_BODY_BYTES, readBody } from '../http/body.ts';
import { jsonNestingBeyond, parseJson, type JsonValue } from '@twinscope/twin';
import { asProvisioningError, ProvisioningError } from './errors.ts';
import { matchOperation, SERVICE_TOPS } from './operations.ts';
import type { DeviceCredential, Provisioning } from './provisioning.ts';

/**
 * Whether a request path is the provisioning service's rather than the hub's: its own top
 * level (`/enrollments`, `/enrollmentGroups`, `/registrations`), or a device's
 * `/{idScope}/registrations/…` whose first segment is none of the hub's (`hubTops`: a hub
 * device may be named "registrations").
 */
export function isProvisioningPath(path: string, hubTops: ReadonlySet<string>): boolean {
  const [first, second] = path.split('/').slice(1);
  const top = first?.toLowerCase() ?? '';
  return SERVICE_TOPS.has(top) || (second?.toLowerCase() === 'registrations' && !hubTops.has(top));
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
      const { operation, params } = matchOperation(method, segments);
      const authorization = request.headers.authorization;
      let device: DeviceCredential = { kind: 'none' };
      if ('device' in operation.caller) {
        // A device: `/{idScope}/registrations/{registrationId}/…`, with its own credential.
        if (params['idScope']!.toLowerCase() !== provisioning.idScope.toLowerCase())
          throw new ProvisioningError(
            401,
            401002,
            `The id scope ${params['idScope']} is not this provisioning service's (${provisioning.idScope}).`,
          );
        const certificate =
          request.socket instanceof TLSSocket ? clientCertificateOf(request.socket) : undefined;
        device = authorization
          ? { kind: 'sas', token: authorization }
          : certificate
            ? { kind: 'x509', chain: certificate.chain }
            : { kind: 'none' };
      } else if (authorization?.startsWith('Bearer ')) {
        try {
          verifyProvisioningBearer(authorization, entra, operation.caller.entraWrite);
        } catch (error) {
          throw new ProvisioningError(401, 401002, (error as Error).message);
        }
      } else provisioning.verifyServiceToken(authorization, hostNames, operation.caller.right);
      const answer = operation.handle({ provisioning, params, body, request, device });
      status = answer.status;
      send(response, answer.status, answer.body, answer.headers);
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
