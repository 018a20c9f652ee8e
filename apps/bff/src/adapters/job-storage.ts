import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { AppError } from '../core/app-error.ts';

/**
 * Blob containers for the hub's bulk jobs, in the hub's storage account: one container per
 * job, and a SAS URI the hub writes and reads it with (it never reaches a browser or a log).
 */
export interface JobStorage {
  /**
   * A new container for a job, and the SAS URI the hub is given for it: an export's may
   * only write; an import's reads its file and writes its errors log.
   */
  newContainer(kind: 'export' | 'import'): Promise<{ container: string; sasUri: string }>;
  upload(container: string, blob: string, text: string): Promise<void>;
  /** A blob's bytes, streamed; undefined when there is no such blob. */
  open(container: string, blob: string): Promise<Readable | undefined>;
  /** A blob's text; undefined when the blob is not there, null when its container is gone. */
  readText(container: string, blob: string): Promise<string | undefined | null>;
  /** Removes a job's container and what it holds. */
  remove(container: string): Promise<void>;
}

export interface JobStorageSettings {
  /** An account key connection string (a SAS is made from the key). */
  connectionString: string;
  timeoutMs: number;
  ca?: string;
}

/** The hub is given its SAS for this long: a job that has not run by then fails. */
const SAS_HOURS = 24;

function storageFailure(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const status = (error as { statusCode?: number }).statusCode;
  return new AppError(
    'storage_unavailable',
    status === 403
      ? "The storage account refused Twinscope's key: check the storage connection string."
      : 'The storage account for bulk jobs did not answer. Try again shortly.',
    { cause: error },
  );
}

export function blobJobStorage(settings: JobStorageSettings): JobStorage {
  const agent = settings.ca ? new Agent({ ca: settings.ca, keepAlive: true }) : undefined;
  const options: StoragePipelineOptions & { agent?: Agent } = {
    retryOptions: { maxTries: 2, tryTimeoutInMs: settings.timeoutMs, retryDelayInMs: 200 },
    ...(agent ? { agent } : {}),
  };
  const service = BlobServiceClient.fromConnectionString(settings.connectionString, options);
  const sasUriOf = async (name: string, permissions: string) => {
    try {
      return await service.getContainerClient(name).generateSasUrl({
        permissions: ContainerSASPermissions.parse(permissions),
        expiresOn: new Date(Date.now() + SAS_HOURS * 3_600_000),
      });
    } catch (error) {
      throw new AppError(
        'storage_unavailable',
        'Bulk jobs need a storage account connection string with an account key (to give the hub a SAS for its container).',
        { cause: error },
      );
    }
  };
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw storageFailure(error);
    }
  };
  return {
    async newContainer(kind) {
      const name = `twinscope-${kind}-${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      const sasUri = await sasUriOf(name, kind === 'export' ? 'w' : 'rw');
      await guarded(() => service.getContainerClient(name).create());
      return { container: name, sasUri };
    },
    async upload(container, blob, text) {
      await guarded(() =>
        service
          .getContainerClient(container)
          .getBlockBlobClient(blob)
          .upload(text, Buffer.byteLength(text)),
      );
    },
    async open(container, blob) {
      return guarded(async () => {
        try {
          const answer = await service
            .getContainerClient(container)
            .getBlobClient(blob)
            .download(0);
          return answer.readableStreamBody as Readable | undefined;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw error;
        }
      });
    },
    async readText(container, blob) {
      const exists = await guarded(() => service.getContainerClient(container).exists());
      if (!exists) return null;
      const body = await this.open(container, blob);
      if (!body) return undefined;
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    async remove(container) {
      await guarded(() => service.getContainerClient(container).deleteIfExists());
    },
  };
}
