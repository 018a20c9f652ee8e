import { HubError } from '../errors.ts';
import { parseModuleInput } from '../store/identity-input.ts';
import { renderIdentity } from '../store/model.ts';
import { deviceTarget, moduleTarget, type Operation } from '../http/operation.ts';

export const moduleOperations: Operation[] = [
  {
    name: 'list-modules',
    method: 'GET',
    path: '/devices/{deviceId}/modules',
    rights: ['RegistryRead'],
    throttle: 'identity',
    target: deviceTarget,
    edgeDevice: true,
    handle({ registry, params }) {
      return { status: 200, body: registry.modulesOf(params['deviceId']!).map(renderIdentity) };
    },
  },
  {
    name: 'get-module',
    method: 'GET',
    path: '/devices/{deviceId}/modules/{moduleId}',
    rights: ['RegistryRead'],
    throttle: 'identity',
    target: moduleTarget,
    edgeDevice: true,
    handle({ registry, params }) {
      return {
        status: 200,
        body: renderIdentity(registry.get(params['deviceId']!, params['moduleId']!)),
      };
    },
  },
  {
    name: 'put-module',
    method: 'PUT',
    path: '/devices/{deviceId}/modules/{moduleId}',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    target: moduleTarget,
    edgeDevice: true,
    handle({ registry, params, body, precondition }) {
      const deviceId = params['deviceId']!;
      const moduleId = params['moduleId']!;
      const input = parseModuleInput(body, deviceId, moduleId);
      const record =
        precondition === undefined
          ? registry.createModule(deviceId, moduleId, input)
          : registry.updateModule(deviceId, moduleId, input, precondition);
      return { status: 200, body: renderIdentity(record) };
    },
  },
  {
    name: 'delete-module',
    method: 'DELETE',
    path: '/devices/{deviceId}/modules/{moduleId}',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    target: moduleTarget,
    edgeDevice: true,
    handle({ registry, params, precondition, principal }) {
      const moduleId = params['moduleId']!;
      if (moduleId.startsWith('$') && principal.name.startsWith('device:'))
        throw new HubError(
          'IotHubUnauthorizedAccess',
          `The IoT Edge runtime cannot delete its system module ${moduleId}.`,
        );
      registry.deleteModule(params['deviceId']!, params['moduleId']!, precondition);
      return { status: 204 };
    },
  },
];
