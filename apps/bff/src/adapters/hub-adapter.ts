import type { DeviceIdentity, ModuleIdentity, Twin } from '@twinscope/contract';
import type { JsonObject, JsonValue } from '@twinscope/twin';
import type { CallContext } from '../core/call-context.ts';

export interface QueryPage {
  items: JsonObject[];
  continuation?: string;
}

/** An automatic configuration as the hub stores it (its JSON, read by the service). */
export type HubConfiguration = JsonObject;

/** A configuration to create or change, in the hub's own shape. */
export interface ConfigurationWrite {
  id: string;
  schemaVersion: string;
  content: JsonObject;
  targetCondition: string;
  priority: number;
  labels: Record<string, string>;
  metrics: { queries: Record<string, string>; results: Record<string, number> };
}

/** Device and module identities, and the keys only the BFF ever holds. */
export interface HubIdentities {
  getDevice(deviceId: string, context?: CallContext): Promise<DeviceIdentity>;
  getModules(deviceId: string, context?: CallContext): Promise<ModuleIdentity[]>;
  getModule(deviceId: string, moduleId: string, context?: CallContext): Promise<ModuleIdentity>;
  createModule(deviceId: string, module: NewModule, context?: CallContext): Promise<ModuleIdentity>;
  /** Changes settable fields with If-Match on the identity's etag. */
  updateModule(
    deviceId: string,
    moduleId: string,
    change: ModuleChange,
    etag: string,
    context?: CallContext,
  ): Promise<ModuleIdentity>;
  deleteModule(
    deviceId: string,
    moduleId: string,
    etag: string,
    context?: CallContext,
  ): Promise<void>;
  createDevice(device: NewDevice, context?: CallContext): Promise<DeviceIdentity>;
  /** Changes status or a key, guarded by the identity's etag (the hub refuses a stale one). */
  updateDevice(
    deviceId: string,
    change: DeviceChange,
    etag: string,
    context?: CallContext,
  ): Promise<DeviceIdentity>;
  /**
   * The bulk registry API (at most 100 devices a call; more are sent in turns). Each item
   * carries the etag the operator saw; the answer says per device whether it was applied.
   */
  bulkDevices(
    action: 'enable' | 'disable' | 'delete',
    devices: { deviceId: string; etag: string }[],
    statusReason: string | undefined,
    context?: CallContext,
  ): Promise<BulkItemResult[]>;
  /** The device's primary connection string; only the BFF ever holds the key. */
  deviceConnectionString(deviceId: string, context?: CallContext): Promise<string>;
  /** The module's primary connection string; only the BFF ever holds the key. */
  moduleConnectionString(
    deviceId: string,
    moduleId: string,
    context?: CallContext,
  ): Promise<string>;
}

/** Twins, and the query language that reads them. */
export interface HubTwins {
  query(
    sql: string,
    options: { pageSize?: number; continuation?: string },
    context?: CallContext,
  ): Promise<QueryPage>;
  getTwin(deviceId: string, moduleId?: string, context?: CallContext): Promise<Twin>;
  /** PATCH with If-Match: the hub refuses it if the twin changed since `etag`. */
  patchTwin(
    deviceId: string,
    moduleId: string | undefined,
    patch: JsonObject,
    etag: string,
    context?: CallContext,
  ): Promise<Twin>;
}

/** Automatic device and module configurations (and IoT Edge deployments). */
export interface HubConfigurations {
  listConfigurations(context?: CallContext): Promise<HubConfiguration[]>;
  getConfiguration(id: string, context?: CallContext): Promise<HubConfiguration>;
  /** Creates one, or (with its etag) changes it; the hub refuses a stale etag. */
  saveConfiguration(
    configuration: ConfigurationWrite,
    etag: string | undefined,
    context?: CallContext,
  ): Promise<HubConfiguration>;
  deleteConfiguration(id: string, context?: CallContext): Promise<void>;
  /** An IoT Edge device's deployment, set on the device itself ("Set modules"). */
  applyModulesContent(
    deviceId: string,
    modulesContent: JsonObject,
    context?: CallContext,
  ): Promise<void>;
}

/** Direct methods, one at a time or as jobs. */
export interface HubMethods {
  /**
   * A direct method on a device or module. The call waits as long as its timeouts say (the
   * hub's own), not the BFF's usual deadline.
   */
  invokeMethod(
    target: { deviceId: string; moduleId?: string },
    request: MethodCall,
    context?: CallContext,
  ): Promise<{ status: number; payload: JsonValue }>;
  /**
   * Schedules a direct method on every device a query condition selects, as one IoT Hub job
   * (jobs v2), starting now; the hub calls them at its own pace. Devices only: jobs do not
   * reach modules.
   */
  scheduleMethodJob(
    jobId: string,
    queryCondition: string,
    request: MethodCall,
    maxExecutionTimeInSeconds: number,
  ): Promise<void>;
  /** A job's status (queued, running, completed, failed, cancelled) and why it failed. */
  getJob(jobId: string): Promise<{ status: string; failureReason?: string }>;
}

/** Cloud-to-device messages and their feedback. */
export interface HubMessaging {
  /** Queues a cloud-to-device message for a device (AMQP, through the service client). */
  sendCloudMessage(deviceId: string, message: CloudMessage, context?: CallContext): Promise<void>;
  /** Empties a device's cloud-to-device queue; answers how many messages were dropped. */
  purgeCloudMessages(deviceId: string, context?: CallContext): Promise<number>;
  /**
   * Reads the hub's feedback on cloud-to-device messages until stopped, reconnecting after
   * failures. Each batch is completed once handed over.
   */
  receiveFeedback(handlers: {
    records(records: FeedbackRecord[]): void;
    error(message: string): void;
  }): { stop(): Promise<void> };
}

/**
 * What the BFF needs from IoT Hub. Only adapters know which SDK answers it. A call made for
 * a request carries its context (who asks, and a signal for when they are gone); the BFF's
 * own work (live polling, the event feed) passes none.
 */
/** A bulk export or import job as the hub reports it. */
export interface HubBulkJob {
  jobId: string;
  /** queued, running, completed, failed, cancelled (the hub's words). */
  status: string;
  progress: number;
  endTimeUtc?: string;
  failureReason?: string;
}

/** The hub's bulk identity jobs, against blob containers named by SAS URIs. */
export interface HubBulkJobs {
  startExport(
    containerSasUri: string,
    excludeKeys: boolean,
    context?: CallContext,
  ): Promise<HubBulkJob>;
  startImport(
    inputSasUri: string,
    outputSasUri: string,
    context?: CallContext,
  ): Promise<HubBulkJob>;
  getBulkJob(jobId: string, context?: CallContext): Promise<HubBulkJob>;
}

export interface HubAdapter
  extends HubIdentities, HubTwins, HubConfigurations, HubMethods, HubMessaging, HubBulkJobs {
  readonly hostName: string;
  readonly isEmulator: boolean;
}

export interface NewModule {
  moduleId: string;
  managedBy?: string;
  authentication:
    | { type: 'sas'; primaryKey?: string; secondaryKey?: string }
    | { type: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string };
}

export interface ModuleChange {
  managedBy?: string | null;
  regenerateKey?: 'primary' | 'secondary';
}

export interface NewDevice {
  deviceId: string;
  authentication:
    | { type: 'sas'; primaryKey?: string; secondaryKey?: string }
    | { type: 'selfSigned'; primaryThumbprint: string; secondaryThumbprint?: string }
    | { type: 'certificateAuthority' };
  iotEdge: boolean;
  status: 'enabled' | 'disabled';
  statusReason?: string;
}

export interface DeviceChange {
  status?: 'enabled' | 'disabled';
  statusReason?: string | null;
  regenerateKey?: 'primary' | 'secondary';
}

export interface BulkItemResult {
  deviceId: string;
  ok: boolean;
  error?: { code: string; message: string };
}

export interface MethodCall {
  methodName: string;
  payload: JsonValue;
  responseTimeoutInSeconds: number;
  connectTimeoutInSeconds: number;
}

export interface CloudMessage {
  body: string;
  contentType?: string;
  contentEncoding?: string;
  messageId: string;
  correlationId?: string;
  /** Absolute expiry. */
  expiresAt?: Date;
  ack: 'none' | 'positive' | 'negative' | 'full';
  properties: Record<string, string>;
}

/** One record of the hub's feedback batches. */
export interface FeedbackRecord {
  originalMessageId: string;
  deviceId: string;
  statusCode: string;
  description: string;
  enqueuedTimeUtc: string;
}
