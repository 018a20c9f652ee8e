import { HubError } from '../errors.ts';
import { deviceTarget, type Operation } from '../http/operation.ts';

export const cloudToDeviceOperations: Operation[] = [
  {
    // Empties a device's cloud-to-device queue (the service SDKs' purgeMessageQueue).
    name: 'purge-cloud-to-device-queue',
    method: 'DELETE',
    path: '/devices/{deviceId}/commands',
    rights: ['ServiceConnect'],
    throttle: 'identity',
    target: deviceTarget,
    handle({ params, cloudToDevice }) {
      if (!cloudToDevice)
        throw new HubError('ServiceUnavailable', 'Cloud-to-device messaging is not running.');
      const deviceId = params['deviceId']!;
      const totalMessagesPurged = cloudToDevice.purge({ deviceId });
      return { status: 200, body: { totalMessagesPurged, deviceId, moduleId: null } };
    },
  },
];
