export { registryFor } from './sdk-registry.ts';
export { rawClient, type RawResponse } from './raw-client.ts';
