export { registryFor, type RegistryOptions } from './registry.ts';
