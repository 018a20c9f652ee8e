import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobServiceClient,
  ContainerSASPermissions,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../emulator.ts';
import { sdkRegistry, uniqueId } from './hub.ts';

/**
 * The registry's bulk export and import jobs with the unmodified azure-iothub Registry, into
 * and out of containers of the Azurite the emulator runs beside it, named by SAS URIs as an
 * operator names them.
 */
describe('import and export jobs against blob storage', () => {
  const hub = {} as { emulator: RunningEmulator; registry: ReturnType<typeof sdkRegistry> };
  let storage: BlobServiceClient;
  let empty: RunningEmulator;
  const place = mkdtempSync(join(tmpdir(), 'import-export-'));
  beforeAll(async () => {
    hub.emulator = await startEmulator({
      dataDir: join(place, 'hub'),
      httpsPort: 0,
      mqttPort: 0,
      amqpsPort: 0,
      amqpPort: 0,
      seed: 'demo',
      storage: 'azurite',
    });
    hub.registry = sdkRegistry(hub.emulator.serviceConnectionString, hub.emulator.tls.caCert);
    const trusted: StoragePipelineOptions & { agent: Agent } = {
      agent: new Agent({ ca: hub.emulator.tls.caCert }),
    };
    storage = BlobServiceClient.fromConnectionString(
      hub.emulator.storage!.connectionString,
      trusted,
    );
    // An empty hub on the same machine: the same CA, which the Azurite beside the first
    // serves its certificate from (a storage account in Azure has a public one).
    cpSync(join(place, 'hub', 'certs'), join(place, 'empty', 'certs'), { recursive: true });
    empty = await startEmulator({
      dataDir: join(place, 'empty'),
      httpsPort: 0,
      mqttPort: 0,
      amqpsPort: 0,
      amqpPort: 0,
    });
  }, 60_000);
  afterAll(async () => {
    await empty?.close();
    await hub.emulator?.close();
    rmSync(place, { recursive: true, force: true });
  });

  /** A new container and a SAS URI to it, as the portal or the CLI makes one. */
  async function container(): Promise<{ uri: string; name: string }> {
    const name = uniqueId('jobs').toLowerCase();
    await storage.getContainerClient(name).create();
    const sas = generateBlobSASQueryParameters(
      {
        containerName: name,
        permissions: ContainerSASPermissions.parse('rwdl'),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      storage.credential as StorageSharedKeyCredential,
    ).toString();
    return { uri: `${storage.getContainerClient(name).url}?${sas}`, name };
  }

  async function finished(registry: ReturnType<typeof sdkRegistry>, jobId: string) {
    for (;;) {
      const job = (await registry.getJob(jobId)) as unknown as {
        status: string;
        failureReason?: string;
        progress: number;
      };
      if (!['enqueued', 'running'].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const lines = async (name: string, blob: string) =>
    (await storage.getContainerClient(name).getBlobClient(blob).downloadToBuffer())
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, any>);

  it('when the fleet is exported without keys and imported into an empty hub, then every device and module is there with its tags and desired properties, and new keys', async () => {
    // An IoT Edge device too: its exported scope is this hub's generation of it, which the
    // empty hub takes as its own (found by the console's import into an empty hub).
    await hub.registry.create({ deviceId: 'import-edge-gateway', capabilities: { iotEdge: true } });
    const out = await container();
    const started = await hub.registry.exportDevicesToBlob(out.uri, true);
    const exported = await finished(hub.registry, (started as unknown as { jobId: string }).jobId);
    expect(exported).toMatchObject({ status: 'completed', progress: 100 });

    const written = await lines(out.name, 'devices.txt');
    const total = [...hub.emulator.registry.allRecords()].length;
    expect(written).toHaveLength(total);
    const gateway = written.find((l) => l['id'] === 'berlin-b1-gateway-01' && !l['moduleId'])!;
    expect(gateway).toMatchObject({
      status: 'enabled',
      tags: { site: 'berlin' },
      authentication: { type: 'sas', symmetricKey: { primaryKey: null, secondaryKey: null } },
    });
    expect(
      written.some((l) => l['id'] === 'berlin-b1-gateway-01' && l['moduleId'] === 'controller'),
    ).toBe(true);

    const target = sdkRegistry(empty.serviceConnectionString, empty.tls.caCert);
    const errorsTo = await container();
    const imported = await finished(
      target,
      (
        (await target.importDevicesFromBlob(out.uri, errorsTo.uri)) as unknown as {
          jobId: string;
        }
      ).jobId,
    );
    expect(imported).toMatchObject({ status: 'completed', progress: 100 });
    expect([...empty.registry.allRecords()]).toHaveLength(total);
    const source = hub.emulator.registry.find('berlin-b1-gateway-01', 'controller')!;
    const copy = empty.registry.find('berlin-b1-gateway-01', 'controller')!;
    expect(copy.twin.tags).toEqual(source.twin.tags);
    expect((await target.getTwin('berlin-b1-gateway-01')).responseBody.tags).toEqual(
      hub.emulator.registry.find('berlin-b1-gateway-01')!.twin.tags,
    );
    const twin = (await target.getTwin('berlin-b1-gateway-01')).responseBody;
    expect(twin.properties.desired).toMatchObject({ telemetry: { enabled: true } });
    expect(copy.authentication.symmetricKey.primaryKey).toBeTruthy();
    expect(copy.authentication.symmetricKey.primaryKey).not.toBe(
      source.authentication.symmetricKey.primaryKey,
    );
    expect(
      await storage.getContainerClient(errorsTo.name).getBlobClient('importErrors.log').exists(),
    ).toBe(false);
    const edge = empty.registry.find('import-edge-gateway')!;
    expect(edge.capabilities?.iotEdge).toBe(true);
    expect(edge.deviceScope).toBe(`ms-azure-iot-edge://import-edge-gateway-${edge.generationId}`);
    expect(empty.registry.find('import-edge-gateway', '$edgeAgent')).toBeDefined();
  });

  it('when an export keeps keys, then they are in the file; when an import file holds bad lines, then the rest is applied and each bad line is in importErrors.log', async () => {
    const out = await container();
    const exported = await finished(
      hub.registry,
      (
        (await hub.registry.exportDevicesToBlob(out.uri, false)) as unknown as {
          jobId: string;
        }
      ).jobId,
    );
    expect(exported.status).toBe('completed');
    const meter = (await lines(out.name, 'devices.txt')).find(
      (l) => l['id'] === 'berlin-b1-meter-03' && !l['moduleId'],
    )!;
    expect(meter['authentication'].symmetricKey.primaryKey).toBe(
      hub.emulator.registry.find('berlin-b1-meter-03')!.authentication.symmetricKey.primaryKey,
    );

    const input = await container();
    const fresh = uniqueId('imported');
    const file = [
      JSON.stringify({ id: fresh, importMode: 'create', tags: { origin: 'import' } }),
      'not json',
      JSON.stringify({ id: 'berlin-b1-meter-03', importMode: 'create' }),
      JSON.stringify({ id: uniqueId('nomode'), importMode: 'sideways' }),
    ].join('\n');
    await storage
      .getContainerClient(input.name)
      .getBlockBlobClient('devices.txt')
      .upload(file, file.length);
    const imported = await finished(
      hub.registry,
      (
        (await hub.registry.importDevicesFromBlob(input.uri, input.uri)) as unknown as {
          jobId: string;
        }
      ).jobId,
    );
    expect(imported.status).toBe('completed');
    expect(hub.emulator.registry.find(fresh)!.twin.tags).toEqual({ origin: 'import' });
    const errors = await lines(input.name, 'importErrors.log');
    expect(errors.map((e) => e['errorCode'])).toEqual([
      'ArgumentInvalid',
      'DeviceAlreadyExists',
      'ArgumentInvalid',
    ]);
  });

  it('when the container cannot be reached, then the job fails saying so, and nothing is half-applied', async () => {
    const before = [...hub.emulator.registry.allRecords()].length;
    const job = await finished(
      hub.registry,
      (
        (await hub.registry.importDevicesFromBlob(
          'https://127.0.0.1:1/nowhere?sig=x',
          'https://127.0.0.1:1/nowhere?sig=x',
        )) as unknown as { jobId: string }
      ).jobId,
    );
    expect(job).toMatchObject({ status: 'failed' });
    expect(job.failureReason).toMatch(/storage account cannot be reached/);
    expect([...hub.emulator.registry.allRecords()]).toHaveLength(before);
  });
});
