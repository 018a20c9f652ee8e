import { isJsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import {
  deviceTarget,
  moduleTarget,
  type Operation,
  type OperationContext,
} from '../http/operation.ts';

async function invoke(context: OperationContext) {
  const { body, params, registry, devices } = context;
  if (!isJsonObject(body) || typeof body['methodName'] !== 'string' || !body['methodName']) {
    throw new HubError('ArgumentInvalid', 'The body must carry a methodName.');
  }
  const timeout = body['responseTimeoutInSeconds'] ?? 30;
  if (typeof timeout !== 'number' || timeout < 5 || timeout > 300) {
    throw new HubError('ArgumentInvalid', 'responseTimeoutInSeconds must be between 5 and 300.');
  }
  const connectTimeout = body['connectTimeoutInSeconds'] ?? 0;
  if (typeof connectTimeout !== 'number' || connectTimeout < 0 || connectTimeout > 300) {
    throw new HubError('ArgumentInvalid', 'connectTimeoutInSeconds must be between 0 and 300.');
  }
  const deviceId = params['deviceId']!;
  const moduleId = params['moduleId'];
  // Unknown identities are 404 DeviceNotFound/ModuleNotFound, as for any other call.
  registry.get(deviceId, moduleId);
  if (!devices)
    throw new HubError('DeviceNotOnline', 'The device side of the emulator is not running.');
  const result = await devices.invokeMethod(
    { deviceId, ...(moduleId !== undefined ? { moduleId } : {}) },
    body['methodName'],
    body['payload'] ?? null,
    timeout,
    connectTimeout,
  );
  return { status: 200, body: { status: result.status, payload: result.payload } };
}

export const methodOperations: Operation[] = [
  {
    name: 'invoke-device-method',
    method: 'POST',
    path: '/twins/{deviceId}/methods',
    rights: ['ServiceConnect'],
    throttle: 'twinUpdate',
    target: deviceTarget,
    handle: invoke,
  },
  {
    name: 'invoke-module-method',
    method: 'POST',
    path: '/twins/{deviceId}/modules/{moduleId}/methods',
    rights: ['ServiceConnect'],
    throttle: 'twinUpdate',
    target: moduleTarget,
    handle: invoke,
  },
];
