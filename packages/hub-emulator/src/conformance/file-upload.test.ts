import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import {
  AnonymousCredential,
  BlobServiceClient,
  BlockBlobClient,
  newPipeline,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { portAgentFor, serviceClientFor } from '@twinscope/hub-connection';
import { afterEach, describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { ACCEPTED, RELEASED, useAmqpWire } from './amqp-wire.ts';
import { uniqueId, useHub } from './hub.ts';

const { Client: DeviceClient } = deviceSdk;

/**
 * File upload against Azurite, as IoT Hub brokers it: the device asks the hub for a SAS URI
 * (azure-iot-device `getBlobSharedAccessSignature`), uploads with Microsoft's storage SDK
 * (what `uploadToBlob` does inside), says how it went (`notifyBlobUploadStatus`), and the
 * service hears a file notification (azure-iothub `getFileNotificationReceiver`).
 */
describe('Emulator: file upload to Azurite, and file notifications', () => {
  const hub = useHub({ storage: 'azurite' });
  const amqp = useAmqpWire(hub);
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });

  async function device(deviceId: string) {
    // The file upload API always dials 443 on the connection string's host; the agent takes
    // it to the emulator's port.
    const cs = hub.emulator
      .identityConnectionString(deviceId)
      .replace(/HostName=([^;:]+):\d+/, 'HostName=$1');
    const client = DeviceClient.fromConnectionString(cs, mqttTransport.Mqtt);
    await client.setOptions({
      ca: hub.emulator.tls.caCert,
      http: { agent: portAgentFor({ port: hub.emulator.httpsPort, ca: hub.emulator.tls.caCert }) },
    });
    closers.push(() => client.close());
    return client;
  }

  /**
   * The storage SDK's options, trusting the emulator's CA (Azurite serves its certificate):
   * `agent` is handed to core-rest-pipeline, which @azure/storage-blob does without naming it.
   */
  const trusted = (): StoragePipelineOptions & { agent: Agent } => ({
    agent: new Agent({ ca: hub.emulator.tls.caCert }),
  });
  /** A device's upload to its SAS URL, with Microsoft's storage SDK. */
  const upload = (url: string, bytes: Buffer) =>
    new BlockBlobClient(url, newPipeline(new AnonymousCredential(), trusted())).uploadData(bytes);

  async function notifications() {
    const service = serviceClientFor(hub.emulator.serviceConnectionString, {
      ca: hub.emulator.tls.caCert,
      amqpPort: hub.emulator.amqpsPort,
    });
    await service.open();
    closers.push(() => service.close());
    const { result: receiver } = await service.getFileNotificationReceiver();
    type Incoming = Parameters<typeof receiver.complete>[0];
    const heard: { message: Incoming; body: Record<string, unknown> }[] = [];
    const waiting: (() => void)[] = [];
    receiver.on('message', (message: Incoming) => {
      heard.push({ message, body: JSON.parse(message.data.toString()) });
      waiting.splice(0).forEach((wake) => wake());
    });
    const next = async (deviceId: string) => {
      for (;;) {
        const at = heard.findIndex((h) => h.body['deviceId'] === deviceId);
        if (at >= 0) return heard.splice(at, 1)[0]!;
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no file notification')), 10_000);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    };
    // azure-iothub settles what it receives as it receives it; completing again is harmless.
    const complete = (message: Incoming) =>
      new Promise<void>((resolve, reject) =>
        receiver.complete(message, (error) => (error ? reject(error) : resolve())),
      );
    return { complete, next };
  }

  it('when a device uploads a file through the hub, then the blob holds its bytes and the service hears its name, size and URI', async () => {
    const deviceId = uniqueId('uploader');
    await hub.registry.create({ deviceId });
    const { complete, next } = await notifications();
    const client = await device(deviceId);

    const sas = await client.getBlobSharedAccessSignature('diagnostics/boot report.json');
    expect(sas).toMatchObject({
      containerName: 'fileupload',
      blobName: `${deviceId}/diagnostics/boot report.json`,
    });
    expect(sas.sasToken).toMatch(/^\?.*sig=/);
    // Every SDK builds the same URL from the answer (azure-iot-device blob_uploader.ts 115).
    const url = `https://${sas.hostName}/${sas.containerName}/${encodeURIComponent(sas.blobName!).replaceAll('%2F', '/')}${sas.sasToken}`;
    const bytes = Buffer.from(JSON.stringify({ booted: true, pad: 'x'.repeat(300_000) }));
    await upload(url, bytes);
    await client.notifyBlobUploadStatus(sas.correlationId!, true, 200, 'uploaded');

    const { message, body } = await next(deviceId);
    expect(body).toMatchObject({
      deviceId,
      blobName: `${deviceId}/diagnostics/boot report.json`,
      blobSizeInBytes: bytes.length,
    });
    expect(String(body['blobUri'])).toContain('/fileupload/');
    expect(Date.parse(String(body['lastUpdatedTime']))).not.toBeNaN();
    await complete(message);
    await expect.poll(() => hub.emulator.fileUploads.notifications.size).toBe(0);

    // What the hub's storage holds is what the device sent.
    const storage = BlobServiceClient.fromConnectionString(
      hub.emulator.storage!.connectionString,
      trusted(),
    );
    const stored = await storage
      .getContainerClient('fileupload')
      .getBlobClient(`${deviceId}/diagnostics/boot report.json`)
      .downloadToBuffer();
    expect(stored.equals(bytes)).toBe(true);
  });

  it('when .NET’s FileNotificationReceiver abandons a notification, then it comes again until completed; a failed upload makes none', async () => {
    const deviceId = uniqueId('abandon');
    await hub.registry.create({ deviceId });
    const client = await device(deviceId);
    const failed = await client.getBlobSharedAccessSignature('never.bin');
    await client.notifyBlobUploadStatus(failed.correlationId!, false, 500, 'disk full');
    const sas = await client.getBlobSharedAccessSignature('twice.bin');
    await upload(
      `https://${sas.hostName}/${sas.containerName}/${sas.blobName}${sas.sasToken}`,
      Buffer.from('twice'),
    );
    await client.notifyBlobUploadStatus(sas.correlationId!, true, 200, 'ok');

    // Microsoft.Azure.Devices ServiceClient: no SASL, CBS for the hub (IotHubConnection.cs
    // 302-329), the receiver on the absolute address with receive-settle second, each
    // message disposed unsettled (AmqpFileNotificationReceiver.cs; AmqpClientHelper.cs 44-64).
    const service = await amqp.connect();
    const putToken = await amqp.dotnetCbs(service);
    const owner = hub.emulator.policies.find((p) => p.keyName === 'iothubowner')!;
    const host = hub.emulator.hostName;
    const sasToken = createSasToken(
      host,
      owner.primaryKey,
      Math.floor(Date.now() / 1000) + 600,
      owner.keyName,
    );
    expect((await putToken(`amqps://${host}:5671/`, sasToken))['status-code']).toBe(200);
    const receiver = await amqp.opened(
      service.open_receiver({
        name: randomUUID().replaceAll('-', ''),
        source: { address: `amqps://${host}:5671/messages/serviceBound/filenotifications` },
        rcv_settle_mode: 1,
        autoaccept: false,
        credit_window: 1,
      }),
    );
    const ours = (message: { body?: unknown }) => {
      const body = message.body as { content?: Buffer } | undefined;
      return JSON.parse(body?.content?.toString() ?? '{}').deviceId === deviceId;
    };
    const first = await amqp.next(receiver, ours);
    expect(first.message!.content_type).toBe(
      'application/vnd.microsoft.iothub.filenotification.json',
    );
    const again = amqp.next(receiver, ours);
    // Abandon is a released outcome (AmqpConstants.ReleasedOutcome); the hub answers accepted.
    expect(await amqp.dispose(receiver, first, RELEASED)).toBe('accepted');
    const second = await again;
    expect(
      JSON.parse((second.message!.body as { content: Buffer }).content.toString()),
    ).toMatchObject({
      blobName: `${deviceId}/twice.bin`,
      blobSizeInBytes: 5,
    });
    expect(await amqp.dispose(receiver, second, ACCEPTED)).toBe('accepted');
    await expect.poll(() => hub.emulator.fileUploads.notifications.size).toBe(0);
  });

  it('when a device asks too much, the wrong thing or as a module, then IoT Hub’s errors come back and nothing is started', async () => {
    const deviceId = uniqueId('limits');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'camera' });
    const key = (moduleId?: string) =>
      hub.emulator.registry.find(deviceId, moduleId)!.authentication.symmetricKey.primaryKey!;
    const token = (moduleId?: string) => {
      const resource = `${hub.emulator.hostName}/devices/${deviceId}${moduleId ? `/modules/${moduleId}` : ''}`;
      return createSasToken(resource, key(moduleId), Math.floor(Date.now() / 1000) + 600);
    };
    const start = (blobName: unknown, moduleId?: string) =>
      hub.raw.send('POST', `/devices/${deviceId}/files?api-version=2021-04-12`, {
        body: JSON.stringify({ blobName }),
        authorization: token(moduleId),
      });

    // Ten uploads may be in progress at once; the eleventh is refused (403006).
    for (let i = 0; i < 10; i++) expect((await start(`f${i}`)).status).toBe(200);
    const eleventh = await start('f10');
    expect(eleventh.status).toBe(403);
    expect(eleventh.headers['iothub-errorcode']).toBe('DeviceMaximumActiveFileUploadLimitExceeded');

    expect((await start('')).status).toBe(400);
    expect((await start('x'.repeat(1100))).status).toBe(400);
    // Storage URLs resolve dot segments: no name may leave the device's folder.
    for (const name of ['../other-device/x', 'a/./b', 'a//b', '/rooted'])
      expect((await start(name)).status).toBe(400);
    expect((await start('ok', 'camera')).status).toBe(400);
    const unknown = await hub.raw.send(
      'POST',
      `/devices/${deviceId}/files/notifications?api-version=2021-04-12`,
      {
        body: JSON.stringify({
          correlationId: 'nope',
          isSuccess: true,
          statusCode: 200,
          statusDescription: '',
        }),
        authorization: token(),
      },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('correlation id');
  });

  it('when a device completes with the correlation id in the body, as .NET, Java, Python and C send it, then the upload is notified', async () => {
    const deviceId = uniqueId('body-form');
    await hub.registry.create({ deviceId });
    const { next } = await notifications();
    const key = hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!;
    const resource = `${hub.emulator.hostName}/devices/${deviceId}`;
    const authorization = createSasToken(resource, key, Math.floor(Date.now() / 1000) + 600);
    // .NET FileUploadSasUriRequest / FileUploadCompletionNotification (HttpTransportHandler.cs).
    const started = await hub.raw.send(
      'POST',
      `/devices/${deviceId}/files?api-version=2021-04-12`,
      {
        body: JSON.stringify({ blobName: 'report.csv' }),
        authorization,
      },
    );
    expect(started.status).toBe(200);
    const sas = started.json as Record<string, string>;
    await upload(
      `https://${sas['hostName']}/${sas['containerName']}/${sas['blobName']}${sas['sasToken']}`,
      Buffer.from('a,b\n1,2\n'),
    );
    const done = await hub.raw.send(
      'POST',
      `/devices/${deviceId}/files/notifications?api-version=2021-04-12`,
      {
        body: JSON.stringify({
          correlationId: sas['correlationId'],
          isSuccess: true,
          statusCode: 200,
          statusDescription: 'Success',
        }),
        authorization,
      },
    );
    expect(done.status).toBe(204);
    expect((await next(deviceId)).body).toMatchObject({
      blobName: `${deviceId}/report.csv`,
      blobSizeInBytes: 8,
    });
  });
});

describe('Emulator: file upload without storage', () => {
  const hub = useHub();

  it('when the hub has no storage, then starting an upload says how to give it one', async () => {
    const deviceId = uniqueId('nostorage');
    await hub.registry.create({ deviceId });
    const key = hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!;
    const resource = `${hub.emulator.hostName}/devices/${deviceId}`;
    const response = await hub.raw.send(
      'POST',
      `/devices/${deviceId}/files?api-version=2021-04-12`,
      {
        body: JSON.stringify({ blobName: 'a.txt' }),
        authorization: createSasToken(resource, key, Math.floor(Date.now() / 1000) + 600),
      },
    );
    expect(response.status).toBe(400);
    expect(response.text).toContain('--storage');
  });
});
