import { Agent } from 'node:https';
import {
  AnonymousCredential,
  BlockBlobClient,
  newPipeline,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { registryFor, serviceCredentials } from '@twinscope/hub-connection';
import deviceSdk from 'azure-iot-device';
import { connectionFor, TRANSPORT_CTOR, type HubPorts } from './module-app.ts';

const { Client: DeviceClient } = deviceSdk;

/** Where the report goes, under the device's folder in the hub's file upload container. */
export const BOOT_REPORT = 'diagnostics/boot-report.json';

export interface BootReportOptions {
  ca?: string;
  /** Where the hub listens (the file upload API always dials 443 otherwise). */
  ports?: HubPorts;
  /** How long the whole upload may take. */
  timeoutMs?: number;
}

/** What a device says about its start: a few fields an operator reads first. */
function bootReport(deviceId: string) {
  return {
    deviceId,
    bootedAt: new Date().toISOString(),
    reason: 'power-on',
    firmware: { version: '2.0.3', bootloader: '1.4.0' },
    checks: { sensors: 'ok', network: 'ok', storage: 'ok' },
    freeMemoryKb: 48_212,
  };
}

/**
 * The SDK's error with the hub's own words (IoT Hub answers `{"Message": "ErrorCode:…;why"}`,
 * which the SDK keeps in `responseBody` and names only by its status, `Bad Request`).
 */
function withHubReason(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const reason = hubMessage((error as { responseBody?: unknown } | undefined)?.responseBody);
  return reason ? new Error(`${message}: ${reason}`, { cause: error }) : (error as Error);
}

function hubMessage(responseBody: unknown): string | undefined {
  try {
    const { Message } = JSON.parse(String(responseBody)) as { Message?: unknown };
    return typeof Message === 'string' ? Message.replace(/^ErrorCode:[^;]*;/, '') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The device uploads a boot report once, as IoT Hub's file upload works in every SDK: a
 * SAS URI from the hub (`getBlobSharedAccessSignature`), the bytes to storage with
 * Microsoft's storage SDK, the outcome back to the hub (`notifyBlobUploadStatus`). Throws
 * what went wrong (a hub without storage refuses the SAS URI, saying so).
 */
export async function uploadBootReport(
  deviceConnectionString: string,
  options: BootReportOptions = {},
): Promise<{ blobName: string; bytes: number }> {
  const deviceId = /DeviceId=([^;]+)/.exec(deviceConnectionString)?.[1] ?? 'device';
  // The file upload API speaks HTTPS: the same host, port and trust as the device transport.
  const connection = connectionFor(deviceConnectionString, 'http', options.ports, options.ca);
  const client = DeviceClient.fromConnectionString(
    connection.connectionString,
    TRANSPORT_CTOR.http,
  );
  await client.setOptions(connection.options);
  const agent = options.ca ? new Agent({ ca: options.ca }) : undefined;
  let timer: NodeJS.Timeout | undefined;
  const upload = async () => {
    const sas = await client.getBlobSharedAccessSignature(BOOT_REPORT).catch((error: unknown) => {
      throw withHubReason(error);
    });
    const blobPath = encodeURIComponent(sas.blobName!).replaceAll('%2F', '/');
    const url = `https://${sas.hostName}/${sas.containerName}/${blobPath}${sas.sasToken}`;
    const body = Buffer.from(`${JSON.stringify(bootReport(deviceId), null, 2)}\n`);
    // The emulator's Azurite serves the hub's certificate; `agent` reaches the storage SDK's
    // pipeline (core-rest-pipeline), which it hands on without naming it.
    const pipeline: StoragePipelineOptions & { agent?: Agent } = agent ? { agent } : {};
    try {
      await new BlockBlobClient(url, newPipeline(new AnonymousCredential(), pipeline)).uploadData(
        body,
        { blobHTTPHeaders: { blobContentType: 'application/json' } },
      );
    } catch (error) {
      await client.notifyBlobUploadStatus(sas.correlationId!, false, 500, (error as Error).message);
      throw error;
    }
    await client.notifyBlobUploadStatus(sas.correlationId!, true, 200, 'boot report uploaded');
    return { blobName: sas.blobName!, bytes: body.length };
  };
  try {
    return await Promise.race([
      upload(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${(options.timeoutMs ?? 20_000) / 1000} s`)),
          options.timeoutMs ?? 20_000,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    agent?.destroy();
    await client.close().catch(() => undefined);
  }
}

/**
 * The same for a device of a hub the service connection string reaches: its key is read
 * from the registry, then it uploads with its own connection string, as on a real device.
 */
export async function uploadBootReportFor(
  serviceConnectionString: string,
  deviceId: string,
  options: BootReportOptions = {},
): Promise<{ blobName: string; bytes: number }> {
  const registry = registryFor(serviceConnectionString, options.ca ? { ca: options.ca } : {});
  const { responseBody } = await registry.get(deviceId);
  const key = responseBody.authentication?.symmetricKey?.primaryKey;
  if (!key) throw new Error(`${deviceId} has no symmetric key to upload with`);
  const host = serviceCredentials(serviceConnectionString).hostName;
  return uploadBootReport(`HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`, options);
}
