// A device's settable fields as IoT Hub keeps them, scopes above all: who may be whose
// parent is the rule of nested IoT Edge. Pure: the registry says which scopes exist.
import { HubError } from '../errors.ts';
import type { DeviceInput } from './identity-input.ts';
import type { IdentityRecord } from './model.ts';

/** An IoT Edge device's own scope: `ms-azure-iot-edge://<deviceId>-<generationId>`. */
export const edgeScopeOf = (device: { deviceId: string; generationId: string }): string =>
  `ms-azure-iot-edge://${device.deviceId}-${device.generationId}`;

/** The device id an IoT Edge scope names, if it is one. */
export const deviceIdOfEdgeScope = (scope: string): string | undefined =>
  /^ms-azure-iot-edge:\/\/(.+)-\d+$/.exec(scope)?.[1];

/**
 * Sets a device's settable fields, with scopes as the hub keeps them: an IoT Edge device has
 * a scope of its own, which cannot change (given its own scope of another generation, as an
 * export from another hub holds it, it keeps this hub's); another device's scope, and every parent scope,
 * must be an existing IoT Edge device's scope (`isEdgeScope`); a device given only a scope
 * gets it as its parent too.
 */
export function applyDeviceInput(
  record: IdentityRecord,
  input: DeviceInput,
  isEdgeScope: (scope: string) => boolean,
): void {
  const refuse = (message: string): never => {
    throw new HubError('ArgumentInvalid', message);
  };
  let scope = record.deviceScope;
  if (input.iotEdge) {
    const own = edgeScopeOf(record);
    // Its own scope of another generation (an export from another hub, or from before it
    // was created again) is taken as its own: the generation is this hub's.
    if (
      input.deviceScope &&
      input.deviceScope !== own &&
      deviceIdOfEdgeScope(input.deviceScope) !== record.deviceId
    )
      refuse(
        `Device ${record.deviceId} is an IoT Edge device: its scope is its own (${own}) and cannot change. Name a parent in parentScopes.`,
      );
    scope = own;
  } else if (input.deviceScope) {
    if (!isEdgeScope(input.deviceScope))
      refuse(
        `deviceScope "${input.deviceScope.slice(0, 200)}" is not the scope of an IoT Edge device in this hub.`,
      );
    scope = input.deviceScope;
  }
  const parents =
    input.parentScopes.length === 0 && !input.iotEdge && input.deviceScope
      ? [input.deviceScope]
      : input.parentScopes;
  for (const parent of parents) {
    if (parent === scope && input.iotEdge)
      refuse(`An IoT Edge device cannot be its own parent (${parent}).`);
    if (!isEdgeScope(parent))
      refuse(
        `parentScopes: "${parent.slice(0, 200)}" is not the scope of an IoT Edge device in this hub.`,
      );
  }
  record.status = input.status;
  record.statusReason = input.statusReason;
  record.authentication = input.authentication;
  record.capabilities = { iotEdge: input.iotEdge };
  if (scope) record.deviceScope = scope;
  record.parentScopes = parents;
}
