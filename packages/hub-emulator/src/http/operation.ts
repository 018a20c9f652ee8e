import type { IncomingHttpHeaders } from 'node:http';
import type { JsonValue } from '@twinscope/twin';
import type { Principal, Right } from '../auth/sas.ts';
import type { Registry, Precondition } from '../store/registry.ts';
import type { ThrottleClass } from './throttle.ts';
import type { CloudToDevice } from '../c2d/cloud-to-device.ts';

export interface MethodInvoker {
  invokeMethod(
    identity: { deviceId: string; moduleId?: string },
    methodName: string,
    payload: JsonValue,
    responseTimeoutSeconds: number,
  ): Promise<{ status: number; payload: JsonValue }>;
}

export type HttpMethod = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface OperationContext {
  registry: Registry;
  /** The device side (every transport), for direct methods. */
  devices?: MethodInvoker;
  /** Cloud-to-device queues, for purging them. */
  cloudToDevice?: CloudToDevice;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: JsonValue | undefined;
  precondition: Precondition;
  principal: Principal;
}

export interface OperationResult {
  status: number;
  body?: JsonValue;
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
  throttle: ThrottleClass;
  /** The identity the operation acts on, for tokens scoped below the hub. */
  target?: (params: Record<string, string>) => string[];
  handle(context: OperationContext): OperationResult | Promise<OperationResult>;
}

export const deviceTarget = (p: Record<string, string>) => ['devices', p['deviceId'] ?? ''];
export const moduleTarget = (p: Record<string, string>) => [
  'devices',
  p['deviceId'] ?? '',
  'modules',
  p['moduleId'] ?? '',
];
