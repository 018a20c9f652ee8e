export { rawClient, type RawResponse } from './raw-client.ts';
