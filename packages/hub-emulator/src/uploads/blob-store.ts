import { Agent } from 'node:https';
import {
  BlobSASPermissions,
  BlobServiceClient,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { HubError } from '../errors.ts';

/** The storage a hub's file uploads go to: what the hub needs of it, and nothing else. */
export interface BlobStore {
  /**
   * What a device puts after `https://` to reach a container (every SDK builds
   * `https://{hostName}/{container}/{blob}{sasToken}`): the blob endpoint's host, and its path
   * when the account is in the path (Azurite's `127.0.0.1:10000/devstoreaccount1`).
   */
  readonly hostName: string;
  ensureContainer(container: string): Promise<void>;
  /** A SAS token (`?sv=…`) that lets its holder create, write and read one blob until then. */
  uploadSas(container: string, blobName: string, expiresOn: Date): string;
  blobUri(container: string, blobName: string): string;
  /** The blob's size and when it was last written, or undefined when there is no such blob. */
  properties(
    container: string,
    blobName: string,
  ): Promise<{ size: number; lastModified: Date } | undefined>;
}

/**
 * The client's options. `agent` is core-rest-pipeline's, which @azure/storage-blob hands its
 * pipeline unchanged without naming it: with a CA, the client trusts Azurite serving the
 * emulator's own certificate.
 */
function pipelineOptions(ca: string | undefined): StoragePipelineOptions & { agent?: Agent } {
  return {
    retryOptions: { maxTries: 2, tryTimeoutInMs: 10_000 },
    ...(ca ? { agent: new Agent({ ca, keepAlive: true }) } : {}),
  };
}

/**
 * Azure Blob Storage (or Azurite) by connection string, through Microsoft's
 * `@azure/storage-blob`: shared-key SAS tokens for devices, and the reads a file
 * notification needs.
 */
export function azureBlobStore(connectionString: string, options: { ca?: string } = {}): BlobStore {
  const service = BlobServiceClient.fromConnectionString(
    connectionString,
    pipelineOptions(options.ca),
  );
  // The account key the hub signs devices' SAS URIs with, as the SDK read it.
  const credential = service.credential;
  if (!(credential instanceof StorageSharedKeyCredential))
    throw new Error('The storage connection string needs an AccountName and an AccountKey.');
  const endpoint = new URL(service.url);
  const hostName = `${endpoint.host}${endpoint.pathname}`.replace(/\/+$/, '');
  const ensured = new Set<string>();
  const unavailable = (error: unknown) =>
    new HubError(
      'ServiceUnavailable',
      `The hub's storage account did not answer: ${(error as Error).message}`,
    );
  return {
    hostName,
    async ensureContainer(container) {
      if (ensured.has(container)) return;
      try {
        await service.getContainerClient(container).createIfNotExists();
      } catch (error) {
        throw unavailable(error);
      }
      ensured.add(container);
    },
    uploadSas(container, blobName, expiresOn) {
      const sas = generateBlobSASQueryParameters(
        {
          containerName: container,
          blobName,
          permissions: BlobSASPermissions.parse('rcw'),
          expiresOn,
          protocol: SASProtocol.Https,
        },
        credential,
      );
      return `?${sas.toString()}`;
    },
    blobUri(container, blobName) {
      return service.getContainerClient(container).getBlobClient(blobName).url;
    },
    async properties(container, blobName) {
      try {
        const blob = service.getContainerClient(container).getBlobClient(blobName);
        const properties = await blob.getProperties();
        return {
          size: properties.contentLength ?? 0,
          lastModified: properties.lastModified ?? new Date(),
        };
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw unavailable(error);
      }
    },
  };
}
