import {
  DefaultAzureCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

export type { TokenCredential };

export type HubCredentialKind =
  'default' | 'managed-identity' | 'workload-identity' | 'environment';

/**
 * The BFF's own Entra identity for the hub. In Azure prefer a managed identity; a client
 * secret comes through `environment` (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET).
 * A user-assigned managed identity is picked with AZURE_CLIENT_ID.
 */
export function hubCredential(kind: HubCredentialKind): TokenCredential {
  switch (kind) {
    case 'managed-identity': {
      const clientId = process.env['AZURE_CLIENT_ID'];
      return clientId
        ? new ManagedIdentityCredential({ clientId })
        : new ManagedIdentityCredential();
    }
    case 'workload-identity':
      return new WorkloadIdentityCredential();
    case 'environment':
      return new EnvironmentCredential();
    case 'default':
      return new DefaultAzureCredential();
  }
}
