import type { Registry } from '../store/registry.ts';
import { identityKey, type Identity } from './device-sessions.ts';

/**
 * Who may connect as a device or module, one rule for every transport (MQTT's CONNECT, AMQP's
 * links after `$cbs` or SASL): IoT Hub's, as its SAS tokens and connection checks apply it.
 */

/** A credential as the transports know it: its holder's name and its rights. */
export interface Credential {
  /** A policy's name, `device:<id>` or `module:<id>/<mid>` (identity keys). */
  name?: string | undefined;
  rights?: ReadonlySet<string> | undefined;
}

/**
 * Why a credential may not act as this device or module, or undefined when it may: it needs
 * DeviceConnect, a device's own key does not open its modules, and a module's key opens only
 * that module. (Whether the token is scoped to the identity is the caller's check: a token's
 * audience over MQTT, the address a `$cbs` grant was put for over AMQP.)
 */
export function refusalToActAs(credential: Credential, identity: Identity): string | undefined {
  if (!credential.rights?.has('DeviceConnect'))
    return `${credential.name ?? 'the token'} lacks DeviceConnect`;
  if (credential.name?.startsWith('device:') && identity.moduleId !== undefined)
    return 'a device key cannot connect a module';
  if (
    credential.name?.startsWith('module:') &&
    credential.name !== `module:${identityKey(identity)}`
  )
    return 'wrong module key';
  return undefined;
}

/** Why this identity cannot be connected now: not registered, or its device disabled. */
export function refusalToConnect(
  registry: Registry,
  identity: Identity,
): { kind: 'not-registered' | 'disabled'; reason: string } | undefined {
  const device = registry.find(identity.deviceId);
  if (!device || !registry.find(identity.deviceId, identity.moduleId))
    return { kind: 'not-registered', reason: `${identityKey(identity)} is not registered` };
  if (device.status !== 'enabled')
    return { kind: 'disabled', reason: `device ${identity.deviceId} is disabled` };
  return undefined;
}
