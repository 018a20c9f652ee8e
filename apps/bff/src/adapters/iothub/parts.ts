import type { HubCalls } from './call.ts';
import type { HubClients } from './clients.ts';

/** What each area of the adapter works with: the call pipeline and the SDK's clients. */
export interface HubParts {
  calls: HubCalls;
  clients: HubClients;
}
