export {
  registryFor,
  registryForCredential,
  type HubTokenCredential,
  type RegistryOptions,
} from './registry.ts';
