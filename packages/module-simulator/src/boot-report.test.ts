import { Agent } from 'node:https';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_REPORT, uploadBootReportFor } from './boot-report.ts';

async function hub(storage: boolean): Promise<RunningEmulator> {
  return startEmulator({
    inMemory: true,
    httpsPort: 0,
    mqttPort: 0,
    seed: 'demo',
    ...(storage ? { storage: 'azurite' as const } : {}),
  });
}

const portsOf = (emulator: RunningEmulator) => ({
  https: emulator.httpsPort,
  mqtt: emulator.mqttPort,
  amqp: emulator.amqpsPort,
});

describe('the boot report a simulated device uploads through the hub’s file upload', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await hub(true);
  });
  afterAll(() => emulator?.close());

  it('when the fleet starts with a reporting device, then its report is in the hub’s container under the device', async () => {
    const uploaded = await uploadBootReportFor(
      emulator.serviceConnectionString,
      'berlin-b1-gateway-01',
      { ca: emulator.tls.caCert, ports: portsOf(emulator) },
    );
    expect(uploaded.blobName).toBe(`berlin-b1-gateway-01/${BOOT_REPORT}`);
    const trusted: StoragePipelineOptions & { agent: Agent } = {
      agent: new Agent({ ca: emulator.tls.caCert }),
    };
    const blob = BlobServiceClient.fromConnectionString(emulator.storage!.connectionString, trusted)
      .getContainerClient(emulator.storage!.container)
      .getBlobClient(uploaded.blobName);
    const properties = await blob.getProperties();
    expect(properties.contentType).toBe('application/json');
    expect(properties.contentLength).toBe(uploaded.bytes);
    const report = JSON.parse((await blob.downloadToBuffer()).toString());
    expect(report).toMatchObject({ deviceId: 'berlin-b1-gateway-01', reason: 'power-on' });
    expect(Date.parse(report.bootedAt)).not.toBeNaN();
  });
});

describe('the boot report on a hub without storage', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await hub(false);
  });
  afterAll(() => emulator?.close());

  it('when the hub has no storage, then the upload fails with the hub’s reason, which the CLI logs and goes on', async () => {
    await expect(
      uploadBootReportFor(emulator.serviceConnectionString, 'berlin-b1-gateway-01', {
        ca: emulator.tls.caCert,
        ports: portsOf(emulator),
      }),
    ).rejects.toThrow(/storage/i);
  });
});
