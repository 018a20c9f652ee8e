export {
  abortableHubCall,
  jobClientFor,
  jobClientForCredential,
  registryFor,
  registryForCredential,
  serviceCredentials,
  type HubTokenCredential,
  type RegistryOptions,
} from './registry.ts';
export {
  purgeCloudToDeviceQueue,
  serviceClientFor,
  type ServiceClientOptions,
} from './service-client.ts';
export { portAgentFor } from './port-agent.ts';
export {
  provisioningClientFor,
  provisioningClientForCredential,
  type ProvisioningOptions,
} from './provisioning.ts';
