import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '@twinscope/twin';
import type { Principal, Right } from '../auth/sas.ts';
import type { Registry, Precondition } from '../store/registry.ts';
import type { ThrottleClass } from './throttle.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';
import type { Identity, MethodInvoker } from '../devices/device-sessions.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { Configurations } from '../configurations/configurations.ts';
import type { FileUploads } from '../uploads/file-uploads.ts';
import type { ImportExportJobs } from '../jobs/import-export.ts';

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface OperationContext {
  registry: Registry;
  /** The device side (every transport), for direct methods. */
  devices?: MethodInvoker;
  /** Cloud-to-device queues, for purging them. */
  cloudToDevice?: CloudToDevice;
  /** IoT Hub jobs v2. */
  jobs?: Jobs;
  /** Automatic device and module configurations. */
  configurations?: Configurations;
  /** File upload: SAS URIs for devices, their completions, file notifications. */
  fileUploads?: FileUploads;
  /** The registry's import and export jobs. */
  importExport?: ImportExportJobs;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: JsonValue | undefined;
  /** The body's bytes, for operations that take them as they are (`body: 'raw'`). */
  rawBody?: Buffer;
  /** For device-side operations: the device or module the token speaks for. */
  identity?: Identity;
  precondition: Precondition;
  principal: Principal;
}

export interface OperationResult {
  status: number;
  body?: JsonValue;
  /** A body sent as it is (a device's cloud-to-device message), instead of JSON. */
  raw?: Buffer;
  headers?: Record<string, string>;
}

/** One REST operation of the service API, as a row of the dispatch table. */
export interface Operation {
  name: string;
  method: HttpMethod;
  /** Path pattern, e.g. `/devices/{deviceId}/modules/{moduleId}`. */
  path: string;
  /** The request needs any one of these rights. */
  rights: Right[];
  /** The throttle IoT Hub counts it against; none for device-side traffic the emulator does not throttle. */
  throttle?: ThrottleClass;
  /** The identity the operation acts on, for tokens scoped below the hub. */
  target?: (params: Record<string, string>) => string[];
  /** `raw`: the body is handed over as bytes, not parsed as JSON (device messages). */
  body?: 'raw';
  /**
   * A device's own operation (the device HTTPS transport): the token must speak for the
   * path's device, or one of its modules, which becomes `identity`.
   */
  deviceSide?: true;
  /**
   * An IoT Edge device's own token may call it for the device's modules, as the Edge
   * runtime (aziot-identityd) manages them with no service credential.
   */
  edgeDevice?: true;
  /** An IoT Edge device's `$edgeHub` module token may call it (its device scope). */
  edgeHub?: true;
  handle(context: OperationContext): OperationResult | Promise<OperationResult>;
}

export const deviceTarget = (p: Record<string, string>) => ['devices', p['deviceId'] ?? ''];
export const moduleTarget = (p: Record<string, string>) => [
  'devices',
  p['deviceId'] ?? '',
  'modules',
  p['moduleId'] ?? '',
];
