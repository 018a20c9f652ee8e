export {
  abortableHubCall,
  registryFor,
  registryForCredential,
  type HubTokenCredential,
  type RegistryOptions,
} from './registry.ts';
