import { parseDeviceInput } from '../store/identity-input.ts';
import { renderIdentity } from '../store/model.ts';
import { deviceTarget, type Operation } from '../http/operation.ts';
import { HubError } from '../errors.ts';

export const deviceOperations: Operation[] = [
  {
    name: 'list-devices',
    method: 'GET',
    path: '/devices/',
    rights: ['RegistryRead'],
    throttle: 'identity',
    handle({ registry, query }) {
      const topText = query.get('top');
      let top: number | undefined;
      if (topText !== null) {
        top = Number(topText);
        if (!Number.isInteger(top) || top < 1 || top > 1000) {
          throw new HubError('ArgumentInvalid', 'top must be a whole number from 1 to 1000.');
        }
      }
      return { status: 200, body: registry.devices(top ?? 1000).map(renderIdentity) };
    },
  },
  {
    name: 'get-device',
    method: 'GET',
    path: '/devices/{deviceId}',
    rights: ['RegistryRead'],
    throttle: 'identity',
    target: deviceTarget,
    handle({ registry, params }) {
      return { status: 200, body: renderIdentity(registry.get(params['deviceId']!)) };
    },
  },
  {
    name: 'put-device',
    method: 'PUT',
    path: '/devices/{deviceId}',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    target: deviceTarget,
    handle({ registry, params, body, precondition }) {
      const id = params['deviceId']!;
      const input = parseDeviceInput(body, id);
      const record =
        precondition === undefined
          ? registry.createDevice(id, input)
          : registry.updateDevice(id, input, precondition);
      return { status: 200, body: renderIdentity(record) };
    },
  },
  {
    name: 'delete-device',
    method: 'DELETE',
    path: '/devices/{deviceId}',
    rights: ['RegistryWrite'],
    throttle: 'identity',
    target: deviceTarget,
    handle({ registry, params, precondition }) {
      registry.deleteDevice(params['deviceId']!, precondition);
      return { status: 204 };
    },
  },
  {
    name: 'get-device-statistics',
    method: 'GET',
    path: '/statistics/devices',
    rights: ['RegistryRead'],
    throttle: 'identity',
    handle({ registry }) {
      return { status: 200, body: { ...registry.statistics() } };
    },
  },
  {
    name: 'get-service-statistics',
    method: 'GET',
    path: '/statistics/service',
    rights: ['ServiceConnect', 'RegistryRead'],
    throttle: 'identity',
    handle({ registry }) {
      const connected = registry.devices().filter((d) => d.connectionState === 'Connected').length;
      return { status: 200, body: { connectedDeviceCount: connected } };
    },
  },
];
