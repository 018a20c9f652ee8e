export {
  startEmulator,
  connectionString,
  type EmulatorOptions,
  type RunningEmulator,
} from './emulator.ts';
export { startHubEmulator, type HubEmulator, type HubEmulatorOptions } from './hub-emulator.ts';
export {
  createSasToken,
  defaultPolicies,
  DEVELOPMENT_KEYS,
  type Policy,
  type Right,
} from './auth/sas.ts';
export { type ThrottleLimits } from './http/throttle.ts';
export type { ChangeEvent, ChangeLog } from './store/change-log.ts';
export type { Registry } from './store/registry.ts';
export { loadOrCreateTls, type TlsMaterial } from './certs.ts';
export { type DataPlaneRole, type EntraAccess } from './auth/entra.ts';
export { createTestTokenIssuer } from './auth/test-issuer.ts';
export type { RouteSource } from './events/routing.ts';
export {
  ConnectionFileSchema,
  readConnectionFile,
  type ConnectionFile,
} from './connection-file.ts';
