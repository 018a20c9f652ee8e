import { HubError } from '../errors.ts';
import { parseModuleInput } from '../store/identity-input.ts';
import { renderIdentity } from '../store/model.ts';
import { deviceTarget, moduleTarget, type Operation } from '../http/operation.ts';
import type { Registry } from '../store/registry.ts';

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
  {
    name: 'devices-and-modules-in-device-scope',
    method: 'GET',
    path: '/devices/{deviceId}/modules/{moduleId}/devicesAndModulesInDeviceScope',
    rights: ['RegistryRead'],
    throttle: 'identity',
    target: moduleTarget,
    edgeHub: true,
    handle({ registry, params, query }) {
      return {
        status: 200,
        body: devicesInScope(registry, params['deviceId']!, params['moduleId']!, query),
      };
    },
  },
];

const MAX_SCOPE_PAGE = 1000;

/**
 * What edgeHub reads to authenticate its children offline (iotedge's DeviceScopeApiClient):
 * the IoT Edge device itself, the devices under it (a leaf's `deviceScope`, a child IoT Edge
 * device's `parentScopes`) and all their modules, keys included, a page of devices at a time
 * with a link to the next.
 */
function devicesInScope(
  registry: Registry,
  deviceId: string,
  moduleId: string,
  query: URLSearchParams,
) {
  const edge = registry.get(deviceId);
  if (!edge.capabilities?.iotEdge || moduleId !== '$edgeHub')
    throw new HubError(
      'ArgumentInvalid',
      "devicesAndModulesInDeviceScope is asked of an IoT Edge device's $edgeHub.",
    );
  const countText = query.get('deviceCount') ?? String(MAX_SCOPE_PAGE);
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count < 1 || count > MAX_SCOPE_PAGE)
    throw new HubError('ArgumentInvalid', `deviceCount is 1 to ${MAX_SCOPE_PAGE}.`);
  const token = query.get('continuationToken') ?? '';
  const start = token === '' ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0)
    throw new HubError('ArgumentInvalid', 'continuationToken is not one this hub gave.');
  const scope = edge.deviceScope;
  const inScope = registry
    .devices()
    .filter(
      (device) =>
        device.deviceId === deviceId ||
        (scope !== undefined &&
          (device.deviceScope === scope || (device.parentScopes ?? []).includes(scope))),
    );
  const page = inScope.slice(start, start + count);
  const next = start + count < inScope.length ? start + count : undefined;
  return {
    devices: page.map(renderIdentity),
    modules: page.flatMap((device) => registry.modulesOf(device.deviceId).map(renderIdentity)),
    continuationLink:
      next === undefined
        ? null
        : `/devices/${encodeURIComponent(deviceId)}/modules/%24edgeHub/devicesAndModulesInDeviceScope?deviceCount=${count}&continuationToken=${next}&api-version=${query.get('api-version') ?? '2018-08-30-preview'}`,
  };
}
