import { Agent } from 'node:https';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { useStackWithStorage, type Harness } from './harness.ts';

describe('BFF: the hub’s bulk export and import jobs, against the emulator with Azurite', () => {
  const stack: Harness = useStackWithStorage('fleet-jobs-');

  const blobService = () =>
    BlobServiceClient.fromConnectionString(stack.emulator.storage!.connectionString, {
      agent: new Agent({ ca: stack.emulator.tls.caCert }),
    } as StoragePipelineOptions);

  /** Follows a job as the console does, until it ends. */
  async function finished(jobId: string) {
    for (let i = 0; i < 300; i++) {
      const { job } = (await stack.api(`/api/fleet/jobs/${jobId}`)).body;
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${jobId} did not end`);
  }
  const lines = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  const ndjson = (text: string) => ({
    method: 'POST',
    body: text,
    headers: { 'content-type': 'application/x-ndjson' },
  });

  it('when an Admin exports a site and imports it back after its devices were deleted, then the preview says what will happen, the job recreates them with their tags, and each line has its outcome', async () => {
    const started = await stack.api('/api/fleet/exports', {
      method: 'POST',
      json: { filter: "tags.site = 'lyon'" },
    });
    expect(started.status).toBe(202);
    const job = await finished(started.body.job.jobId);
    expect(job).toMatchObject({
      kind: 'export',
      status: 'completed',
      filter: "tags.site = 'lyon'",
      includeKeys: false,
    });
    const download = await stack.api(`/api/fleet/jobs/${job.jobId}/download`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toMatch(/attachment; filename="devices-/);
    const exported = lines(download.text);
    const devices = exported.filter((l) => l.moduleId === undefined).map((l) => l.id);
    expect(devices.sort()).toEqual([
      'lyon-north-gateway-07',
      'lyon-north-meter-08',
      'lyon-south-camera-10',
      'lyon-south-hvac-09',
    ]);
    // No keys unless asked for.
    expect(exported.filter((l) => l.authentication?.symmetricKey?.primaryKey)).toEqual([]);
    expect(exported.find((l) => l.id === 'lyon-north-meter-08' && !l.moduleId).tags.site).toBe(
      'lyon',
    );

    // The site's devices go; the file brings them back (with one bad line, one delete of
    // a device that is not there).
    for (const id of devices) await stack.registry.delete(id);
    const file = [
      ...exported.map((l) => JSON.stringify({ ...l, importMode: 'create' })),
      '{not json',
      JSON.stringify({ id: 'no-such-device', importMode: 'delete' }),
      JSON.stringify({
        id: 'berlin-b1-meter-03',
        importMode: 'updateTwin',
        tags: { imported: true },
      }),
      // An id with a quote, which the preview's existence query must quote as the hub does.
      JSON.stringify({ id: "o'brien-meter", importMode: 'create' }),
    ].join('\n');
    const preview = await stack.api('/api/fleet/imports/preview', ndjson(file));
    expect(preview.status).toBe(200);
    expect(preview.body.counts).toEqual({
      lines: exported.length + 4,
      create: exported.length + 1,
      update: 1,
      delete: 0,
      refused: 2,
    });
    expect(preview.body.items.find((i: any) => i.deviceId === 'no-such-device')).toMatchObject({
      action: 'refused',
      reason: 'no such device to delete',
    });
    // A preview changes nothing.
    await expect(stack.registry.get('lyon-north-meter-08')).rejects.toMatchObject({
      response: { statusCode: 404 },
    });

    const imported = await stack.api('/api/fleet/imports', ndjson(file));
    expect(imported.status).toBe(202);
    const done = await finished(imported.body.job.jobId);
    expect(done).toMatchObject({ kind: 'import', status: 'completed', failed: 2 });
    const outcome = (id: string) => done.items.find((i: any) => i.deviceId === id && !i.moduleId);
    expect(outcome('lyon-north-meter-08')).toMatchObject({
      action: 'create',
      outcome: 'succeeded',
    });
    expect(outcome('no-such-device')).toMatchObject({ outcome: 'failed' });
    expect(outcome('berlin-b1-meter-03')).toMatchObject({ action: 'update', outcome: 'succeeded' });
    expect(outcome("o'brien-meter")).toMatchObject({ action: 'create', outcome: 'succeeded' });
    // The import's container (its file may hold keys) is gone once the outcome was read.
    const containers: string[] = [];
    for await (const container of blobService().listContainers()) containers.push(container.name);
    expect(containers.filter((name) => name.startsWith('twinscope-import-'))).toEqual([]);
    expect(containers.filter((name) => name.startsWith('twinscope-export-'))).toHaveLength(1);
    const twin = (await stack.registry.getTwin('lyon-north-meter-08')).responseBody as any;
    expect(twin.tags.site).toBe('lyon');
    expect(
      ((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody as any).tags.imported,
    ).toBe(true);

    // Both jobs are listed with who ran them, and in the audit trail.
    const listed = (await stack.api('/api/fleet/jobs')).body.items;
    expect(listed.map((j: any) => j.kind)).toEqual(['import', 'export']);
    const audit = (await stack.api('/api/audit?kind=fleet')).body.entries as any[];
    expect(audit.map((e) => [e.action, e.result]).reverse()).toEqual([
      ['fleet.export', 'succeeded'],
      ['fleet.import', 'succeeded'],
    ]);
  });

  it('when an Admin exports with keys, then the file holds them and its download is in the audit trail; no SAS reaches a log', async () => {
    const started = await stack.api('/api/fleet/exports', {
      method: 'POST',
      json: { filter: "deviceId = 'berlin-b1-meter-03'", includeKeys: true },
    });
    const job = await finished(started.body.job.jobId);
    const download = await stack.api(`/api/fleet/jobs/${job.jobId}/download`);
    const [device] = lines(download.text).filter((l) => !l.moduleId);
    expect(device.authentication.symmetricKey.primaryKey).toBe(
      stack.emulator.registry.find('berlin-b1-meter-03')!.authentication.symmetricKey.primaryKey,
    );
    const audit = (await stack.api('/api/audit?kind=fleet')).body.entries as any[];
    expect(audit[0]).toMatchObject({
      action: 'fleet.export',
      result: 'succeeded',
      change: { download: job.jobId, includeKeys: true },
    });
    expect(stack.logLines.join('\n')).not.toMatch(/sig=|SharedAccessSignature|AccountKey/);
  });

  it('when an import is not JSON lines or an export filter is not a condition, then it is refused clearly and no job starts', async () => {
    const before = (await stack.api('/api/fleet/jobs')).body.items.length;
    const asJson = await stack.api('/api/fleet/imports', { method: 'POST', json: { id: 'x' } });
    expect(asJson.status).toBe(415);
    const empty = await stack.api('/api/fleet/imports/preview', ndjson('\n\n'));
    expect(empty.status).toBe(400);
    const badFilter = await stack.api('/api/fleet/exports', {
      method: 'POST',
      json: { filter: 'tags.site = = ' },
    });
    expect(badFilter.status).toBe(400);
    expect((await stack.api('/api/fleet/jobs')).body.items.length).toBe(before);
  });
});
