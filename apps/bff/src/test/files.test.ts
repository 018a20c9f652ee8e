import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import {
  AnonymousCredential,
  BlockBlobClient,
  newPipeline,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { portAgentFor } from '@twinscope/hub-connection';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, useStack, useStackWithStorage, type Harness } from './harness.ts';

const { Client: DeviceClient } = deviceSdk;

/** The bytes and headers of a download, as a browser following the link gets them. */
async function download(stack: Harness, deviceId: string, name: string) {
  const response = await fetch(
    `${stack.bff.url}/api/devices/${deviceId}/files/content?${new URLSearchParams({ name })}`,
  );
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

/**
 * A device's upload as the IoT Hub SDKs make it: a SAS URI from the hub
 * (`getBlobSharedAccessSignature`), the bytes to storage with Microsoft's storage SDK, then
 * the outcome to the hub (`notifyBlobUploadStatus`).
 */
async function upload(
  stack: Harness,
  deviceId: string,
  blobName: string,
  bytes: Buffer,
  contentType?: string,
) {
  const ca = stack.emulator.tls.caCert;
  // The file upload API dials 443 on HostName's host; the agent takes it to the hub's port.
  const connectionString = stack.emulator
    .identityConnectionString(deviceId)
    .replace(/HostName=([^;:]+):\d+/, 'HostName=$1');
  const client = DeviceClient.fromConnectionString(connectionString, mqttTransport.Mqtt);
  await client.setOptions({
    ca,
    http: { agent: portAgentFor({ port: stack.emulator.httpsPort, ca }) },
  });
  try {
    const sas = await client.getBlobSharedAccessSignature(blobName);
    const path = encodeURIComponent(sas.blobName!).replaceAll('%2F', '/');
    const url = `https://${sas.hostName}/${sas.containerName}/${path}${sas.sasToken}`;
    // Azurite serves the hub's certificate; `agent` reaches core-rest-pipeline unnamed.
    const trusted: StoragePipelineOptions & { agent: Agent } = { agent: new Agent({ ca }) };
    await new BlockBlobClient(url, newPipeline(new AnonymousCredential(), trusted)).uploadData(
      bytes,
      contentType ? { blobHTTPHeaders: { blobContentType: contentType } } : {},
    );
    await client.notifyBlobUploadStatus(sas.correlationId!, true, 200, 'uploaded');
  } finally {
    await client.close();
  }
}

describe('BFF: files devices uploaded, against the emulator with Azurite', () => {
  const stack: Harness = useStackWithStorage('files-');
  const report = Buffer.from(JSON.stringify({ booted: true, firmware: '2.0.3' }));
  const dump = randomBytes(300_000);

  it('when no device has uploaded yet, then a device has no files (the container does not exist yet)', async () => {
    const listed = await stack.api('/api/devices/berlin-b1-gateway-01/files');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ files: [] });
  });

  it('when devices upload through the hub, then each device lists its own files with size, time and type, a page at a time', async () => {
    await stack.registry.create({ deviceId: 'files-dev-a' });
    await stack.registry.create({ deviceId: 'files-dev-b' });
    const before = Date.now();
    await upload(stack, 'files-dev-a', 'diagnostics/boot report.json', report, 'application/json');
    await upload(stack, 'files-dev-a', 'dumps/core.bin', dump);
    await upload(stack, 'files-dev-b', 'secret.txt', Buffer.from('b only'), 'text/plain');

    const listed = await stack.api('/api/devices/files-dev-a/files');
    expect(listed.status).toBe(200);
    expect(listed.body.next).toBeUndefined();
    expect(listed.body.files).toEqual([
      {
        name: 'diagnostics/boot report.json',
        size: report.length,
        lastModified: expect.any(String),
        contentType: 'application/json',
      },
      {
        name: 'dumps/core.bin',
        size: dump.length,
        lastModified: expect.any(String),
        contentType: 'application/octet-stream',
      },
    ]);
    for (const file of listed.body.files)
      expect(Date.parse(file.lastModified)).toBeGreaterThan(before - 5000);
    const other = await stack.api('/api/devices/files-dev-b/files');
    expect(other.body.files.map((f: { name: string }) => f.name)).toEqual(['secret.txt']);

    const first = await stack.api('/api/devices/files-dev-a/files?limit=1');
    expect(first.body.files.map((f: { name: string }) => f.name)).toEqual([
      'diagnostics/boot report.json',
    ]);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await stack.api(
      `/api/devices/files-dev-a/files?limit=1&continuation=${encodeURIComponent(first.body.next)}`,
    );
    expect(second.body.files.map((f: { name: string }) => f.name)).toEqual(['dumps/core.bin']);
    expect(second.body.next).toBeUndefined();
    expect((await stack.api('/api/devices/files-dev-a/files?limit=0')).status).toBe(400);
  });

  it('when an operator downloads a file, then the BFF streams the same bytes as an attachment with a safe name and type', async () => {
    const json = await download(stack, 'files-dev-a', 'diagnostics/boot report.json');
    expect(json.status).toBe(200);
    expect(json.bytes.equals(report)).toBe(true);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect(json.headers.get('content-length')).toBe(String(report.length));
    expect(json.headers.get('content-disposition')).toBe('attachment; filename="boot report.json"');
    expect(json.headers.get('x-content-type-options')).toBe('nosniff');
    expect(json.headers.get('content-security-policy')).toContain('sandbox');
    expect(json.headers.get('cache-control')).toBe('no-store');

    const binary = await download(stack, 'files-dev-a', 'dumps/core.bin');
    expect(binary.bytes.equals(dump)).toBe(true);
    expect(binary.headers.get('content-type')).toBe('application/octet-stream');

    // A name a quoted header value cannot carry as it is: replaced, and in UTF-8 beside it.
    // (ASCII: Node's device SDK sends a blob name's length in characters, not bytes.)
    await upload(stack, 'files-dev-a', 'logs/eth0 "up".log', Buffer.from('up'), 'text/plain');
    const odd = await download(stack, 'files-dev-a', 'logs/eth0 "up".log');
    expect(odd.status).toBe(200);
    expect(odd.bytes.toString()).toBe('up');
    expect(odd.headers.get('content-disposition')).toBe(
      `attachment; filename="eth0 _up_.log"; filename*=UTF-8''eth0%20%22up%22.log`,
    );
  });

  it("when a name leaves the device's folder or names another device's file, then nothing is read: 400 for the way out, 404 for a file it does not have", async () => {
    const notHers = await download(stack, 'files-dev-a', 'secret.txt');
    expect(notHers.status).toBe(404);
    expect(JSON.parse(notHers.bytes.toString())).toMatchObject({
      code: 'not_found',
      message: 'files-dev-a has no uploaded file named secret.txt.',
    });
    for (const name of [
      '../files-dev-b/secret.txt',
      'dumps/../../files-dev-b/secret.txt',
      '..',
      './secret.txt',
      '..\\files-dev-b\\secret.txt',
      'secret.txt\u0000',
      '',
    ]) {
      const refused = await download(stack, 'files-dev-a', name);
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(JSON.parse(refused.bytes.toString()).code).toBe('validation_failed');
    }
    // As a hostile page would send them: escaped, and in the path, unnormalised.
    for (const rawPath of [
      '/api/devices/files-dev-a/files/content?name=%2e%2e%2Ffiles-dev-b%2Fsecret.txt',
      '/api/devices/files-dev-a/files/content?name=%2E%2E/files-dev-b/secret.txt',
      '/api/devices/files-dev-a/files/content?name=a&name=b',
      '/api/devices/files-dev-a%2F..%2Ffiles-dev-b/files/content?name=secret.txt',
    ]) {
      const refused = await send(stack.bff.url, { rawPath });
      expect(refused.status, rawPath).toBe(400);
    }
    const missing = await download(stack, 'files-dev-a', 'dumps/none.bin');
    expect(missing.status).toBe(404);
  });

  it('when anything is answered or logged, then no storage key, SAS or connection string is in it', async () => {
    const key = /AccountKey=([^;]+)/.exec(stack.emulator.storage!.connectionString)![1]!;
    const answers = [
      (await stack.api('/api/devices/files-dev-a/files')).text,
      (await download(stack, 'files-dev-a', 'nothing-here')).bytes.toString(),
    ];
    for (const text of [...answers, stack.logLines.join('\n')]) {
      expect(text).not.toContain(key);
      expect(text).not.toMatch(/sig=|AccountKey|SharedAccessSignature/);
    }
    expect(stack.logLines.join('\n')).toContain('"message":"file upload"');
  });
});

describe('BFF: file upload without storage', () => {
  const stack = useStack();

  it('when the hub has no storage configured, then both routes say so with their own code, not as a failure', async () => {
    const listed = await stack.api('/api/devices/berlin-b1-gateway-01/files');
    expect(listed.status).toBe(404);
    expect(listed.body).toMatchObject({
      code: 'file_upload_not_configured',
      message: expect.stringContaining('TWINSCOPE_STORAGE_CONNECTION_STRING'),
    });
    const content = await stack.api('/api/devices/berlin-b1-gateway-01/files/content?name=a.txt');
    expect(content.body.code).toBe('file_upload_not_configured');
    expect(stack.logLines.join('\n')).not.toContain('"level":"error"');
  });
});

describe('BFF: storage that hangs, then is down', () => {
  const sockets = new Set<Socket>();
  let storage: Server;
  let port = 0;
  const key = randomBytes(32).toString('base64');
  beforeAll(async () => {
    // Takes connections and never answers: a hung storage account.
    storage = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => storage.listen(0, '127.0.0.1', resolve));
    port = (storage.address() as { port: number }).port;
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    storage.close();
  });
  const stack = useStack({
    env: () => ({
      TWINSCOPE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
      TWINSCOPE_STORAGE_TIMEOUT_MS: '1000',
    }),
  });

  it('when storage takes connections and never answers, then listing and downloading answer 503 storage_unavailable within the timeout', async () => {
    for (const path of [
      '/api/devices/berlin-b1-gateway-01/files',
      '/api/devices/berlin-b1-gateway-01/files/content?name=boot.json',
    ]) {
      const started = Date.now();
      const answer = await stack.api(path);
      expect(answer.status, path).toBe(503);
      expect(answer.body).toMatchObject({
        code: 'storage_unavailable',
        message: expect.stringContaining('did not answer within 1 s'),
      });
      expect(Date.now() - started).toBeLessThan(4000);
    }
  });

  it('when storage is down, then the answer says it cannot be reached, and the log says why without the key', async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => storage.close(() => resolve()));
    const answer = await stack.api('/api/devices/berlin-b1-gateway-01/files');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({
      code: 'storage_unavailable',
      message: expect.stringContaining('cannot be reached'),
    });
    const failed = stack.logLines.filter((line) => line.includes('"code":"storage_unavailable"'));
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.at(-1)).toContain('ECONNREFUSED');
    expect(stack.logLines.join('\n')).not.toContain(key);
  });
});
