import { Agent } from 'node:https';
import { pipeline, Transform, type Readable } from 'node:stream';
import {
  BlobServiceClient,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { BLOB_NAME_MAX } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { ClientGoneError, type CallContext } from '../core/call-context.ts';
import type { Logger } from '../log.ts';

/** Where devices' uploads are: the hub's storage account and its file upload container. */
export interface FileStoreSettings {
  /** Never logged, never sent to a browser. */
  connectionString: string;
  container: string;
  /** How long one call may take; a download may also go this long without a byte. */
  timeoutMs: number;
  /** A CA to trust for the account (the emulator's Azurite serves the hub's certificate). */
  ca?: string;
}

export interface StoredFile {
  /** The name under the device's folder. */
  name: string;
  size: number;
  lastModified: Date;
  contentType?: string;
}

export interface FileContent {
  size: number;
  contentType?: string;
  lastModified?: Date;
  /** The bytes, as storage sends them; ends with an error if storage stops sending. */
  body: Readable;
}

/** What the console needs of the storage devices upload to; the storage SDK stays in here. */
export interface DeviceFileStore {
  /** Where the files are (the blob endpoint and container, no credential), for a log line. */
  readonly where: string;
  /** A page of the device's files, in name order, and where the next page starts. */
  list(
    deviceId: string,
    page: { limit: number; continuation?: string },
    context: CallContext,
  ): Promise<{ files: StoredFile[]; next?: string }>;
  /** One of the device's files, streamed; undefined when it has no such file. */
  open(deviceId: string, name: string, context: CallContext): Promise<FileContent | undefined>;
  close(): void;
}

interface StorageError {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
}

/** What went wrong, for the log: the error's kind, code and status, never a URL or header. */
function describe(error: unknown): string {
  const e = (error ?? {}) as StorageError;
  const parts = [e.name ?? 'Error', e.code, e.statusCode ? `HTTP ${e.statusCode}` : undefined];
  const first = String(e.message ?? '').split('\n')[0];
  return `${parts.filter(Boolean).join(' ')}${first ? `: ${first}` : ''}`;
}

/**
 * A deadline for one call, reset by `touch` (a download's bytes arriving), combined with the
 * browser's going away.
 */
function deadline(context: CallContext, timeoutMs: number) {
  const controller = new AbortController();
  const expire = () => controller.abort(new Error('storage timeout'));
  let timer = setTimeout(expire, timeoutMs);
  return {
    signal: AbortSignal.any([controller.signal, context.signal]),
    touch() {
      clearTimeout(timer);
      timer = setTimeout(expire, timeoutMs);
    },
    clear: () => clearTimeout(timer),
  };
}

/** Each segment escaped as the storage SDK escapes a blob name in its URL. */
const escapePath = (name: string) => name.split('/').map(encodeURIComponent).join('/');

/**
 * The hub's file upload container through Microsoft's `@azure/storage-blob`. Every name is
 * under `{deviceId}/`, and a name whose URL would reach anywhere else is no file at all.
 * What storage answers is mapped to the contract's errors here: down, hung or refusing is
 * 503 `storage_unavailable`, bounded by the timeout.
 */
export function blobFileStore(settings: FileStoreSettings, logger: Logger): DeviceFileStore {
  const agent = settings.ca ? new Agent({ ca: settings.ca, keepAlive: true }) : undefined;
  // `agent` is core-rest-pipeline's, which the storage SDK hands its pipeline unnamed.
  const options: StoragePipelineOptions & { agent?: Agent } = {
    retryOptions: {
      maxTries: 2,
      tryTimeoutInMs: settings.timeoutMs,
      retryDelayInMs: 200,
      maxRetryDelayInMs: 1000,
    },
    ...(agent ? { agent } : {}),
  };
  const service = BlobServiceClient.fromConnectionString(settings.connectionString, options);
  const container: ContainerClient = service.getContainerClient(settings.container);
  const containerPath = new URL(container.url).pathname;
  const seconds = Math.round(settings.timeoutMs / 100) / 10;

  const failure = (error: unknown, signal: AbortSignal): Error => {
    if (signal.aborted && signal.reason instanceof ClientGoneError) return signal.reason;
    if (signal.aborted)
      return new AppError(
        'storage_unavailable',
        `The storage account holding devices' uploads did not answer within ${seconds} s. Try again shortly.`,
        { cause: new Error(`storage did not answer within ${seconds} s`) },
      );
    const status = (error as StorageError).statusCode;
    return new AppError(
      'storage_unavailable',
      status === 403
        ? "The storage account holding devices' uploads refused Twinscope's credentials; ask an administrator to check its storage connection string."
        : `The storage account holding devices' uploads cannot be reached${status ? ` (it answered ${status})` : ''}. Try again shortly.`,
      { cause: new Error(describe(error)) },
    );
  };

  return {
    where: `${new URL(container.url).origin}${containerPath}`,

    async list(deviceId, page, context) {
      const prefix = `${deviceId}/`;
      const call = deadline(context, settings.timeoutMs);
      try {
        const pages = container.listBlobsFlat({ prefix, abortSignal: call.signal }).byPage({
          maxPageSize: page.limit,
          ...(page.continuation ? { continuationToken: page.continuation } : {}),
        });
        // One page: the first the listing answers.
        for await (const { segment, continuationToken } of pages) {
          const files = segment.blobItems.map((blob) => ({
            name: blob.name.slice(prefix.length),
            size: blob.properties.contentLength ?? 0,
            lastModified: blob.properties.lastModified,
            ...(blob.properties.contentType ? { contentType: blob.properties.contentType } : {}),
          }));
          return { files, ...(continuationToken ? { next: continuationToken } : {}) };
        }
        return { files: [] };
      } catch (error) {
        const e = error as StorageError;
        // The hub creates its container with the first upload: none yet, no files yet.
        if (!call.signal.aborted && e.code === 'ContainerNotFound') return { files: [] };
        if (!call.signal.aborted && e.statusCode === 400 && page.continuation)
          throw new AppError(
            'validation_failed',
            'query parameter continuation: not where a listing of these files left off; list them again from the start.',
          );
        throw failure(error, call.signal);
      } finally {
        call.clear();
      }
    },

    async open(deviceId, name, context) {
      const blobName = `${deviceId}/${name}`;
      if (blobName.length > BLOB_NAME_MAX) return undefined;
      const blob = container.getBlobClient(blobName);
      // The name as the URL carries it: a URL that resolved it elsewhere is no file of this device.
      if (new URL(blob.url).pathname !== `${containerPath}/${escapePath(blobName)}`)
        return undefined;
      const call = deadline(context, settings.timeoutMs);
      let response;
      try {
        response = await blob.download(0, undefined, {
          abortSignal: call.signal,
          maxRetryRequests: 2,
        });
      } catch (error) {
        call.clear();
        const e = error as StorageError;
        if (!call.signal.aborted && (e.statusCode === 404 || e.code === 'ContainerNotFound'))
          return undefined;
        throw failure(error, call.signal);
      }
      const source = response.readableStreamBody;
      if (!source) {
        call.clear();
        throw failure(new Error('storage sent no body'), call.signal);
      }
      // The deadline now bounds the wait for each chunk, not the whole file.
      call.touch();
      const body = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          call.touch();
          done(null, chunk);
        },
      });
      pipeline(source, body, (error) => {
        call.clear();
        // The answer has started: the browser sees the download fail, and the log says why.
        const browserGone =
          call.signal.reason instanceof ClientGoneError ||
          (error as StorageError | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
        if (error && !browserGone)
          logger.warn('a device file download broke off', {
            deviceId,
            error: call.signal.aborted ? `no bytes for ${seconds} s` : describe(error),
          });
      });
      return {
        size: response.contentLength ?? 0,
        ...(response.contentType ? { contentType: response.contentType } : {}),
        ...(response.lastModified ? { lastModified: response.lastModified } : {}),
        body,
      };
    },

    close() {
      agent?.destroy();
    },
  };
}
