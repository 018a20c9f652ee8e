// The registry's bulk import and export jobs (`POST /jobs/create`), as IoT Hub runs them:
// against a blob container the operator names by SAS URI (Azurite beside the emulator, or
// any Azure Storage account). Export writes every device and module identity with its twin
// as JSON lines (`devices.txt`), keys only when asked; import reads such a file and applies
// each line by its `importMode`, writing what failed to `importErrors.log`.
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  AnonymousCredential,
  ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { isJsonObject, parseJson, type JsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { applyImportItem } from '../store/import-item.ts';
import type { IdentityRecord } from '../store/model.ts';
import type { Registry } from '../store/registry.ts';
import { renderTwin } from '../store/twin-render.ts';

export interface ImportExportJob {
  jobId: string;
  type: 'export' | 'import';
  status: 'enqueued' | 'running' | 'completed' | 'failed' | 'cancelled';
  progress: number;
  startTimeUtc: string;
  endTimeUtc?: string;
  inputBlobContainerUri?: string;
  outputBlobContainerUri?: string;
  inputBlobName?: string;
  outputBlobName?: string;
  excludeKeysInExport: boolean;
  failureReason?: string;
}

/** IoT Hub's file names when the job names none. */
const DEVICES_BLOB = 'devices.txt';
const ERRORS_BLOB = 'importErrors.log';
/** The largest file an import reads (IoT Hub imports up to a million devices per job). */
const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

/** A device or module as the export writes it (IoT Hub's ExportImportDevice). */
function exportLine(record: IdentityRecord, excludeKeys: boolean): JsonObject {
  const twin = renderTwin(record);
  const { symmetricKey, x509Thumbprint, type } = record.authentication;
  return {
    id: record.deviceId,
    ...(record.moduleId !== undefined ? { moduleId: record.moduleId } : {}),
    eTag: record.etag,
    ...(record.moduleId === undefined
      ? { status: record.status, statusReason: record.statusReason }
      : { managedBy: record.managedBy ?? null }),
    authentication: {
      symmetricKey: excludeKeys
        ? { primaryKey: null, secondaryKey: null }
        : { primaryKey: symmetricKey.primaryKey, secondaryKey: symmetricKey.secondaryKey },
      x509Thumbprint: { ...x509Thumbprint },
      type,
    },
    twinETag: record.twin.etag,
    tags: record.twin.tags,
    properties: twin['properties']!,
    ...(record.moduleId === undefined
      ? {
          capabilities: { iotEdge: record.capabilities?.iotEdge ?? false },
          ...(record.deviceScope ? { deviceScope: record.deviceScope } : {}),
          parentScopes: record.parentScopes ?? [],
        }
      : {}),
  };
}

/**
 * A line read back for import: what the hub does not take from a file (a twin's `$metadata`
 * and `$version`, reported properties) is left out, so an export imports as it is.
 */
function importable(line: JsonObject): JsonObject {
  const properties = line['properties'];
  if (!isJsonObject(properties) || !isJsonObject(properties['desired'])) return line;
  const desired = Object.fromEntries(
    Object.entries(properties['desired']).filter(([name]) => !name.startsWith('$')),
  );
  return { ...line, properties: { desired } };
}

export class ImportExportJobs {
  private readonly jobs = new Map<string, ImportExportJob>();

  constructor(
    private readonly registry: Registry,
    /** The emulator's CA: Azurite beside it serves the emulator's certificate. */
    private readonly ca?: string,
  ) {}

  create(body: JsonObject): ImportExportJob {
    const type = body['type'];
    if (type !== 'import' && type !== 'export')
      throw new HubError('ArgumentInvalid', "An import/export job's type is import or export.");
    const uri = (name: string) => {
      const value = body[name];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string' || !/^https?:\/\/[^/]+\/[^/?]+/.test(value))
        throw new HubError('ArgumentInvalid', `${name} must be a blob container's SAS URI.`);
      return value;
    };
    const input = uri('inputBlobContainerUri');
    const output = uri('outputBlobContainerUri');
    if (type === 'import' ? !input || !output : !output)
      throw new HubError(
        'ArgumentInvalid',
        type === 'import'
          ? 'An import job needs inputBlobContainerUri and outputBlobContainerUri (for its errors).'
          : 'An export job needs outputBlobContainerUri.',
      );
    const blobName = (name: string) =>
      typeof body[name] === 'string' && body[name] ? { [name]: body[name] as string } : {};
    if (this.running())
      throw new HubError(
        'ThrottlingException',
        'An import or export job is already running: the hub runs one at a time.',
      );
    const job: ImportExportJob = {
      jobId: randomUUID(),
      type,
      status: 'enqueued',
      progress: 0,
      startTimeUtc: new Date().toISOString(),
      ...(input ? { inputBlobContainerUri: input } : {}),
      ...(output ? { outputBlobContainerUri: output } : {}),
      ...blobName('inputBlobName'),
      ...blobName('outputBlobName'),
      excludeKeysInExport: body['excludeKeysInExport'] === true,
    };
    this.jobs.set(job.jobId, job);
    // Started after the answer, as the hub queues it; the caller polls.
    setImmediate(() => void this.run(job));
    return { ...job };
  }

  get(jobId: string): ImportExportJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new HubError('JobNotFound', `Job ${jobId} not found.`);
    return { ...job };
  }

  list(): ImportExportJob[] {
    return [...this.jobs.values()].map((job) => ({ ...job }));
  }

  /** Cancels a job that has not finished; one that has is answered as it is. */
  cancel(jobId: string): ImportExportJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new HubError('JobNotFound', `Job ${jobId} not found.`);
    if (job.status === 'enqueued' || job.status === 'running') {
      job.status = 'cancelled';
      job.endTimeUtc = new Date().toISOString();
    }
    return { ...job };
  }

  private running(): boolean {
    return [...this.jobs.values()].some((j) => j.status === 'enqueued' || j.status === 'running');
  }

  private container(uri: string): ContainerClient {
    const options: StoragePipelineOptions & { agent?: Agent } = {
      retryOptions: { maxTries: 2, tryTimeoutInMs: 30_000 },
      // Public CAs for Azure Storage, and the emulator's for the Azurite beside it.
      ...(this.ca ? { agent: new Agent({ ca: [...rootCertificates, this.ca] }) } : {}),
    };
    return new ContainerClient(uri, new AnonymousCredential(), options);
  }

  private async run(job: ImportExportJob): Promise<void> {
    if (job.status !== 'enqueued') return;
    job.status = 'running';
    try {
      if (job.type === 'export') await this.export(job);
      else await this.import(job);
      if (job.status === 'running') {
        job.status = 'completed';
        job.progress = 100;
      }
    } catch (error) {
      // A cancelled job stays cancelled, whatever its last request did.
      if ((job.status as ImportExportJob['status']) === 'cancelled') return;
      job.status = 'failed';
      job.failureReason =
        error instanceof HubError
          ? error.message
          : `The storage account cannot be reached or refused the job: ${(error as Error).message}`;
    }
    job.endTimeUtc = new Date().toISOString();
  }

  private async export(job: ImportExportJob): Promise<void> {
    const lines: string[] = [];
    for (const record of this.registry.allRecords())
      lines.push(JSON.stringify(exportLine(record, job.excludeKeysInExport)));
    const text = lines.length ? `${lines.join('\n')}\n` : '';
    if ((job.status as ImportExportJob['status']) === 'cancelled') return;
    await this.container(job.outputBlobContainerUri!)
      .getBlockBlobClient(job.outputBlobName ?? DEVICES_BLOB)
      .upload(text, Buffer.byteLength(text), {
        blobHTTPHeaders: { blobContentType: 'text/plain; charset=utf-8' },
      });
  }

  private async import(job: ImportExportJob): Promise<void> {
    const blob = this.container(job.inputBlobContainerUri!).getBlobClient(
      job.inputBlobName ?? DEVICES_BLOB,
    );
    const { contentLength } = await blob.getProperties();
    if ((contentLength ?? 0) > MAX_IMPORT_BYTES)
      throw new HubError(
        'ArgumentInvalid',
        `The import file is ${contentLength} bytes; the emulator reads at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB.`,
      );
    const lines = (await blob.downloadToBuffer()).toString('utf8').split('\n');
    const errors: string[] = [];
    let done = 0;
    const total = lines.filter((line) => line.trim()).length;
    for (const [index, text] of lines.entries()) {
      if (!text.trim()) continue;
      if ((job.status as ImportExportJob['status']) === 'cancelled') return;
      let deviceId = '';
      let moduleId: string | undefined;
      try {
        let line: JsonObject;
        try {
          const parsed = parseJson(text);
          if (!isJsonObject(parsed)) throw new Error('not an object');
          line = parsed;
        } catch {
          throw new HubError('ArgumentInvalid', `Line ${index + 1} is not a JSON object.`);
        }
        deviceId = typeof line['id'] === 'string' ? line['id'] : '';
        moduleId = typeof line['moduleId'] === 'string' ? line['moduleId'] : undefined;
        if (!deviceId) throw new HubError('ArgumentInvalid', `Line ${index + 1} has no id.`);
        const mode =
          typeof line['importMode'] === 'string'
            ? line['importMode'].toLowerCase()
            : 'createorupdate';
        applyImportItem(this.registry, importable(line), deviceId, moduleId, mode);
      } catch (error) {
        if (!(error instanceof HubError)) throw error;
        errors.push(
          JSON.stringify({
            deviceId,
            ...(moduleId !== undefined ? { moduleId } : {}),
            errorCode: error.code,
            errorStatus: error.message,
          }),
        );
      }
      done++;
      job.progress = Math.floor((done / Math.max(total, 1)) * 100);
      // Other requests are served between lines of a large file.
      if (done % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (errors.length > 0) {
      const text = `${errors.join('\n')}\n`;
      await this.container(job.outputBlobContainerUri!)
        .getBlockBlobClient(ERRORS_BLOB)
        .upload(text, Buffer.byteLength(text));
    }
  }
}
