import { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyBearerToken, type EntraAccess } from '../auth/entra.ts';
import { jsonNestingBeyond, jsonNestingMessage, parseJson, type JsonValue } from '@twinscope/twin';
import { scopeCovers, verifySasToken, type Principal, type SasContext } from '../auth/sas.ts';
import {
  authenticateCertificate,
  clientCertificateOf,
  type ClientCertificate,
} from '../auth/x509.ts';
import type { Identity, MethodInvoker } from '../devices/device-sessions.ts';
import type { FileUploads } from '../uploads/file-uploads.ts';
import type { ImportExportJobs } from '../jobs/import-export.ts';
import type { Configurations } from '../configurations/configurations.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import type { Registry } from '../store/registry.ts';
import { errorBody, HubError } from '../errors.ts';
import { isProvisioningPath } from '../provisioning/http.ts';
import { parsePrecondition } from '../store/precondition.ts';
import { readBody } from './body.ts';
import type { Operation, OperationResult } from './operation.ts';
import type { ServedOperations, Throttle } from './throttle.ts';

const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

interface CompiledRoute {
  operation: Operation;
  segments: string[];
}

function splitPath(path: string): string[] {
  // `GET /devices/` (the SDK's list call) and `/devices` are the same resource.
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

function compileRoutes(operations: readonly Operation[]): CompiledRoute[] {
  return operations.map((operation) => ({ operation, segments: splitPath(operation.path) }));
}

function matchRoute(route: CompiledRoute, segments: string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const pattern = route.segments[i]!;
    const actual = segments[i]!;
    if (pattern.startsWith('{')) {
      if (!actual) return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        throw new HubError('ArgumentInvalid', 'The request path is not correctly URL-encoded.');
      }
      params[pattern.slice(1, -1)] = decoded;
    } else if (pattern !== actual) {
      return undefined;
    }
  }
  return params;
}

function dispatch(
  routes: readonly CompiledRoute[],
  method: string,
  path: string,
): { operation: Operation; params: Record<string, string> } {
  const segments = splitPath(path);
  let pathMatched = false;
  for (const route of routes) {
    const params = matchRoute(route, segments);
    if (!params) continue;
    if (route.operation.method === method) return { operation: route.operation, params };
    pathMatched = true;
  }
  if (pathMatched) throw new HubError('MethodNotAllowed', `${method} is not supported on ${path}.`);
  throw new HubError('OperationNotFound', `The emulator has no operation ${method} ${path}.`);
}

/**
 * The device or module a device-side request speaks for: its token must be scoped to the
 * path's device (a device key, a module key, or a DeviceConnect policy scoped there).
 */
function deviceIdentity(principal: Principal, params: Record<string, string>): Identity {
  const deviceId = params['deviceId'] ?? '';
  const [devices, scopedDevice, modules, moduleId] = principal.scope;
  if (devices !== 'devices' || scopedDevice !== deviceId) {
    throw new HubError(
      'IotHubUnauthorizedAccess',
      `The token does not speak for device ${deviceId}.`,
    );
  }
  return modules === 'modules' && moduleId ? { deviceId, moduleId } : { deviceId };
}

/**
 * An enabled IoT Edge device's own credential (its key or certificate), or its `$edgeHub`
 * module's, calling for that device: the Edge runtime manages its modules, and edgeHub reads
 * its scope, with no service credential.
 */
function edgeCaller(
  registry: Registry,
  principal: Principal,
  params: Record<string, string>,
  as: 'device' | '$edgeHub',
): boolean {
  const deviceId = params['deviceId'] ?? '';
  const device = registry.find(deviceId);
  const name = as === 'device' ? `device:${deviceId}` : `module:${deviceId}/$edgeHub`;
  return (
    principal.name === name &&
    (as === 'device' || params['moduleId'] === '$edgeHub') &&
    device?.capabilities?.iotEdge === true &&
    device.status === 'enabled'
  );
}

/**
 * X.509 over HTTPS: no Authorization header, and the TLS handshake's certificate speaks for
 * the path's device, as a device key would.
 */
function certificatePrincipal(
  registry: Registry,
  params: Record<string, string>,
  certificate: ClientCertificate,
): Principal {
  const deviceId = params['deviceId'] ?? '';
  const record = registry.find(deviceId);
  if (!record) throw new HubError('DeviceNotFound', `Device ${deviceId} is not registered.`);
  if (record.status !== 'enabled')
    throw new HubError('IotHubUnauthorizedAccess', `Device ${deviceId} is disabled.`);
  const { expiresAt } = authenticateCertificate(record, { deviceId }, certificate);
  return {
    name: `device:${deviceId}`,
    rights: new Set(['DeviceConnect']),
    scope: ['devices', deviceId],
    expiresAt,
  };
}

function parseBody(text: string, contentType: string | undefined): JsonValue | undefined {
  if (text.trim() === '') return undefined;
  if (contentType !== undefined && !/\bjson\b/i.test(contentType)) {
    throw new HubError(
      'UnsupportedMediaType',
      'Request bodies must be JSON (Content-Type: application/json).',
    );
  }
  // Everything after parsing recurses: a body nested thousands deep is refused unread.
  const deep = jsonNestingBeyond(text);
  if (deep) throw new HubError('ArgumentInvalid', jsonNestingMessage(deep.position));
  try {
    return parseJson(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw new HubError('IotHubFormatError', `The request body is not valid JSON${detail}.`);
  }
}

function send(response: ServerResponse, result: OperationResult): void {
  const headers: Record<string, string | number> = { ...result.headers };
  if (result.raw !== undefined) {
    headers['Content-Length'] = result.raw.length;
    response.writeHead(result.status, headers);
    response.end(result.raw);
    return;
  }
  if (result.body === undefined) {
    response.writeHead(result.status, headers);
    response.end();
    return;
  }
  const payload = JSON.stringify(result.body);
  headers['Content-Type'] = 'application/json; charset=utf-8';
  headers['Content-Length'] = Buffer.byteLength(payload);
  response.writeHead(result.status, headers);
  response.end(payload);
}

function sendError(response: ServerResponse, error: HubError, close: boolean): void {
  const payload = errorBody(error);
  response.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'iothub-errorcode': error.code,
    ...(close ? { Connection: 'close' } : {}),
  });
  response.end(payload);
}

export interface ServiceApiOptions {
  /** The dispatch table: one row per REST operation (`operations/index.ts`). */
  operations: readonly Operation[];
  registry: Registry;
  devices?: MethodInvoker;
  cloudToDevice?: CloudToDevice;
  jobs?: Jobs;
  configurations?: Configurations;
  fileUploads?: FileUploads;
  importExport?: ImportExportJobs;
  sas: SasContext;
  /** Accept Microsoft Entra ID bearer tokens too (hubs with Entra access). */
  entra?: EntraAccess;
  throttle?: Throttle;
  /** Counts what is served per throttle class. */
  served?: ServedOperations;
  /** The Device Provisioning Service's requests, which share the hub's HTTPS port. */
  provisioning?: (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
  ) => Promise<void>;
  log?: (line: string) => void;
}

/**
 * The service REST API as one request listener. Each request passes dispatch → auth →
 * throttle → body → handler → serialize, and any failure leaves as an IoT Hub error body.
 */
export function createServiceApi(options: ServiceApiOptions) {
  const { registry, sas, throttle } = options;
  const routes = compileRoutes(options.operations);
  /** The first segments of the hub's own paths, which the provisioning service never takes. */
  const hubTops = new Set(routes.map((route) => route.segments[0]!.toLowerCase()));
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const rawUrl = request.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
    const query = new URLSearchParams(queryAt >= 0 ? rawUrl.slice(queryAt + 1) : '');
    const method = request.method ?? 'GET';
    if (options.provisioning && isProvisioningPath(path, hubTops))
      return options.provisioning(request, response, path);
    let status: number;
    try {
      const apiVersion = query.get('api-version');
      if (!apiVersion || !API_VERSION.test(apiVersion)) {
        throw new HubError(
          'InvalidProtocolVersion',
          `api-version ${apiVersion === null ? 'is missing' : `'${apiVersion}' is not valid`}; use e.g. 2021-04-12.`,
        );
      }
      const { operation, params } = dispatch(routes, method, path);
      const authorization = request.headers.authorization;
      const certificate =
        authorization === undefined && operation.deviceSide && request.socket instanceof TLSSocket
          ? clientCertificateOf(request.socket)
          : undefined;
      const principal = certificate
        ? certificatePrincipal(registry, params, certificate)
        : authorization?.startsWith('Bearer ')
          ? verifyBearerToken(authorization, options.entra)
          : verifySasToken(authorization, sas);
      if (
        !operation.rights.some((right) => principal.rights.has(right)) &&
        !(operation.edgeDevice && edgeCaller(registry, principal, params, 'device')) &&
        !(operation.edgeHub && edgeCaller(registry, principal, params, '$edgeHub'))
      ) {
        throw new HubError(
          'IotHubUnauthorizedAccess',
          `The ${principal.name} credential lacks ${operation.rights.join(' or ')} for ${operation.name}.`,
        );
      }
      const identity = operation.deviceSide ? deviceIdentity(principal, params) : undefined;
      if (
        !operation.deviceSide &&
        principal.scope.length > 0 &&
        !(operation.target && scopeCovers(principal.scope, operation.target(params)))
      ) {
        throw new HubError(
          'IotHubUnauthorizedAccess',
          `The token's scope does not cover ${operation.name}.`,
        );
      }
      if (operation.throttle) {
        throttle?.check(operation.throttle);
        options.served?.count(operation.throttle);
      }
      const bytes = await readBody(request);
      const body =
        operation.body === 'raw'
          ? undefined
          : parseBody(bytes.toString('utf8'), request.headers['content-type']);
      const precondition = parsePrecondition(request.headers['if-match']);
      const result = await operation.handle({
        registry,
        ...(options.devices ? { devices: options.devices } : {}),
        ...(options.cloudToDevice ? { cloudToDevice: options.cloudToDevice } : {}),
        ...(options.jobs ? { jobs: options.jobs } : {}),
        ...(options.configurations ? { configurations: options.configurations } : {}),
        ...(options.fileUploads ? { fileUploads: options.fileUploads } : {}),
        ...(options.importExport ? { importExport: options.importExport } : {}),
        params,
        query,
        headers: request.headers,
        body,
        ...(operation.body === 'raw' ? { rawBody: bytes } : {}),
        ...(identity ? { identity } : {}),
        precondition,
        principal,
      });
      status = result.status;
      send(response, result);
    } catch (caught) {
      const error =
        caught instanceof HubError
          ? caught
          : new HubError('ServerError', 'The emulator failed to process the request.');
      if (!(caught instanceof HubError)) {
        console.error(
          `${method} ${path} failed:`,
          caught instanceof Error ? caught.message : caught,
        );
      }
      status = error.status;
      sendError(response, error, error.code === 'RequestEntityTooLarge');
    }
    if (options.log) {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      options.log(`${method} ${path} ${status} ${ms.toFixed(1)}ms`);
    }
  };
}
