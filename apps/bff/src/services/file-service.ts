import type { Readable } from 'node:stream';
import type { DeviceFilesQuery, DeviceFilesResponse } from '@twinscope/contract';
import type { DeviceFileStore } from '../adapters/file-store.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';

/** A file on its way to the browser: what the download's headers say, then its bytes. */
export interface FileDownload {
  /** The last segment of the file's name, for Content-Disposition. */
  fileName: string;
  contentType: string;
  size: number;
  lastModified?: Date;
  body: Readable;
}

const NOT_CONFIGURED =
  "File upload is not configured here: Twinscope has no storage account for the hub's uploads (TWINSCOPE_STORAGE_CONNECTION_STRING, or an emulator started with storage).";

/** `type/subtype` with parameters, nothing a header could not carry. */
const MEDIA_TYPE =
  /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[^"\r\n]*"|[\w!#$&^.+-]+))*$/;

/**
 * What devices uploaded through the hub's file upload: each device's files in the hub's
 * container (whoever may see the device may list them) and one file's contents streamed
 * through the BFF, so the storage account's key and SAS tokens never reach a browser.
 */
export class FileService {
  constructor(private readonly store: DeviceFileStore | undefined) {}

  private storeOf(): DeviceFileStore {
    if (!this.store) throw new AppError('file_upload_not_configured', NOT_CONFIGURED);
    return this.store;
  }

  async list(
    deviceId: string,
    query: DeviceFilesQuery,
    context: CallContext,
  ): Promise<DeviceFilesResponse> {
    const { files, next } = await this.storeOf().list(
      deviceId,
      { limit: query.limit, ...(query.continuation ? { continuation: query.continuation } : {}) },
      context,
    );
    return {
      files: files.map((file) => ({
        name: file.name,
        size: file.size,
        lastModified: file.lastModified.toISOString(),
        ...(file.contentType ? { contentType: file.contentType } : {}),
      })),
      ...(next ? { next } : {}),
    };
  }

  /** One of the device's files; 404 when it has none by that name. */
  async download(deviceId: string, name: string, context: CallContext): Promise<FileDownload> {
    const file = await this.storeOf().open(deviceId, name, context);
    if (!file) throw new AppError('not_found', `${deviceId} has no uploaded file named ${name}.`);
    return {
      fileName: name.split('/').filter(Boolean).at(-1) ?? 'file',
      // A type the device set, when it is one; otherwise bytes, which a browser only saves.
      contentType:
        file.contentType && MEDIA_TYPE.test(file.contentType)
          ? file.contentType
          : 'application/octet-stream',
      size: file.size,
      ...(file.lastModified ? { lastModified: file.lastModified } : {}),
      body: file.body,
    };
  }
}
