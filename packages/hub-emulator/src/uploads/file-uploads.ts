import { randomBytes } from 'node:crypto';
import type { Identity } from '../devices/device-sessions.ts';
import { HubError } from '../errors.ts';
import type { Registry } from '../store/registry.ts';
import type { BlobStore } from './blob-store.ts';
import {
  FileNotificationQueue,
  type FileNotification,
  type NotificationSettings,
} from './file-notifications.ts';

/** A hub's file upload settings, as an operator sets them on IoT Hub (ARM `storageEndpoints`, `fileUploadNotifications`…). */
export interface FileUploadSettings extends NotificationSettings {
  /** The blob container devices upload to. */
  container: string;
  /** How long a device's SAS URI lasts (IoT Hub: 1 hour by default, 48 at most). */
  sasTtlSeconds: number;
  /** Whether completed uploads become file notifications for the service. */
  notifications: boolean;
}

export const FILE_UPLOAD_DEFAULTS: FileUploadSettings = {
  container: 'fileupload',
  sasTtlSeconds: 3600,
  notifications: true,
  ttlSeconds: 3600,
  lockSeconds: 60,
  maxDeliveryCount: 10,
};

/** What a device gets back for an upload it starts (`POST /devices/{id}/files`). */
export interface UploadStarted {
  correlationId: string;
  hostName: string;
  containerName: string;
  blobName: string;
  sasToken: string;
}

/** How a device says its upload ended (`POST /devices/{id}/files/notifications`). */
export interface UploadResult {
  isSuccess: boolean;
  statusCode: number;
  statusDescription: string;
}

interface Upload {
  deviceId: string;
  blobName: string;
  expiresAt: number;
}

/** IoT Hub lets a device have this many uploads started and not yet completed. */
const ACTIVE_UPLOADS_PER_DEVICE = 10;
const MAX_BLOB_NAME = 1024;

/**
 * File upload as IoT Hub brokers it: a device asks for a SAS URI for one blob under its own
 * name (`{deviceId}/{blobName}` in the hub's container), uploads to storage itself, then
 * says how it went; a successful upload becomes a file notification for the service. The
 * emulator refuses it all clearly when it has no storage.
 */
export class FileUploads {
  readonly notifications: FileNotificationQueue;
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly registry: Registry,
    private readonly store: BlobStore | undefined,
    readonly settings: FileUploadSettings = FILE_UPLOAD_DEFAULTS,
    private readonly now: () => number = Date.now,
    /** Where file notifications are kept across restarts (none: in memory only). */
    notificationsFile?: string,
  ) {
    this.notifications = new FileNotificationQueue(settings, now, notificationsFile);
  }

  /** Whether the hub has storage to upload to. */
  get enabled(): boolean {
    return this.store !== undefined;
  }

  async start(identity: Identity, blobName: unknown): Promise<UploadStarted> {
    const store = this.storeFor(identity);
    if (typeof blobName !== 'string' || blobName.length === 0)
      throw new HubError('ArgumentInvalid', 'The request needs a "blobName".');
    const fullName = `${identity.deviceId}/${blobName}`;
    const unwelcome = [...blobName].some((c) => c.charCodeAt(0) < 0x20 || c === '\\');
    // Storage URLs resolve `.` and `..`: a name with them could reach another device's
    // folder, or another container, when the hub reads the blob back.
    const escapes = blobName
      .split('/')
      .some((part) => part === '' || part === '.' || part === '..');
    if (fullName.length > MAX_BLOB_NAME || unwelcome || escapes) {
      throw new HubError(
        'ArgumentInvalid',
        `A blob name is at most ${MAX_BLOB_NAME} characters with the device id, without control characters, backslashes, or empty, "." or ".." segments.`,
      );
    }
    this.forgetExpired();
    const active = [...this.uploads.values()].filter((u) => u.deviceId === identity.deviceId);
    if (active.length >= ACTIVE_UPLOADS_PER_DEVICE) {
      throw new HubError(
        'DeviceMaximumActiveFileUploadLimitExceeded',
        `Device ${identity.deviceId} already has ${ACTIVE_UPLOADS_PER_DEVICE} uploads in progress; complete one first.`,
      );
    }
    // The slot is taken before the storage call, so uploads started at once count too.
    const expiresAt = this.now() + this.settings.sasTtlSeconds * 1000;
    const correlationId = randomBytes(24).toString('base64');
    this.uploads.set(correlationId, { deviceId: identity.deviceId, blobName: fullName, expiresAt });
    try {
      await store.ensureContainer(this.settings.container);
    } catch (error) {
      this.uploads.delete(correlationId);
      throw error;
    }
    return {
      correlationId,
      hostName: store.hostName,
      containerName: this.settings.container,
      blobName: fullName,
      sasToken: store.uploadSas(this.settings.container, fullName, new Date(expiresAt)),
    };
  }

  async complete(identity: Identity, correlationId: unknown, result: UploadResult): Promise<void> {
    const store = this.storeFor(identity);
    const upload = typeof correlationId === 'string' ? this.uploads.get(correlationId) : undefined;
    if (!upload || upload.deviceId !== identity.deviceId) {
      throw new HubError(
        'ArgumentInvalid',
        `Device ${identity.deviceId} has no upload with that correlation id (it may have expired).`,
      );
    }
    if (!result.isSuccess || !this.settings.notifications) {
      this.uploads.delete(correlationId as string);
      return;
    }
    // Kept until the blob is found: a device may say so again after a storage hiccup.
    const blob = await store.properties(this.settings.container, upload.blobName);
    if (!blob) {
      throw new HubError(
        'ArgumentInvalid',
        `The device said ${upload.blobName} was uploaded, but the container has no such blob.`,
      );
    }
    if (!this.uploads.delete(correlationId as string)) return; // completed meanwhile
    const notification: FileNotification = {
      deviceId: identity.deviceId,
      blobUri: store.blobUri(this.settings.container, upload.blobName),
      blobName: upload.blobName,
      lastUpdatedTime: blob.lastModified.toISOString(),
      blobSizeInBytes: blob.size,
      enqueuedTimeUtc: new Date(this.now()).toISOString(),
    };
    this.notifications.push(notification);
  }

  close(): void {
    this.notifications.close();
  }

  private storeFor(identity: Identity): BlobStore {
    if (identity.moduleId !== undefined) {
      throw new HubError(
        'ArgumentInvalid',
        'File upload is for devices; IoT Hub does not take uploads from module identities.',
      );
    }
    this.registry.get(identity.deviceId);
    if (!this.store) {
      throw new HubError(
        'ArgumentInvalid',
        'This hub has no storage account for file upload: start the emulator with Azurite (its default) or --storage <connection string>.',
      );
    }
    return this.store;
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [id, upload] of this.uploads) if (upload.expiresAt <= now) this.uploads.delete(id);
  }
}
