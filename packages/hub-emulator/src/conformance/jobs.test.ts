import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hubQuota } from '@twinscope/hub-quotas';
import { startEmulator } from '../emulator.ts';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { jobClientFor } from '@twinscope/hub-connection';
import { expectSdkError } from './sdk-errors.ts';
import { sdkRegistry, uniqueId, useHub } from './hub.ts';

const { Client: DeviceClient } = deviceSdk;

describe('jobs v2 through the unmodified JobClient', () => {
  const hub = useHub();
  const jobs = () =>
    jobClientFor(hub.emulator.serviceConnectionString, { ca: hub.emulator.tls.caCert });
  // What the SDK cannot send (bad requests) and `FROM devices.jobs` go as plain requests.
  const raw = async (method: string, path: string, body?: unknown) =>
    hub.raw.send(method, `${path}?api-version=2021-04-12`, {
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const deviceJobs = async (jobId: string) =>
    raw('POST', '/devices/query', {
      query: `SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`,
    });

  async function untilDone(jobId: string) {
    for (let i = 0; i < 100; i++) {
      const job = (await jobs().getJob(jobId)).jobStatus as { status: string };
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job as never;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${jobId} did not end`);
  }

  it('when a twin update job targets devices by tag, then exactly those twins change and the job completes with per-device statistics and rows in devices.jobs', async () => {
    const site = uniqueId('site');
    const targets = [uniqueId('job-a'), uniqueId('job-b')];
    const other = uniqueId('job-other');
    for (const deviceId of [...targets, other]) await hub.registry.create({ deviceId });
    for (const deviceId of targets) {
      const twin = (await hub.registry.getTwin(deviceId)).responseBody;
      await hub.registry.updateTwin(deviceId, { tags: { site } }, twin.etag);
    }
    const jobId = uniqueId('twin-job');
    const created = await jobs().scheduleTwinUpdate(
      jobId,
      `tags.site = '${site}'`,
      { etag: '*', tags: { wave: 1 }, properties: { desired: { setpoint: 19 }, reported: {} } },
      new Date(),
      120,
    );
    expect(created.jobStatus).toMatchObject({
      jobId,
      type: 'scheduleUpdateTwin',
      status: 'queued',
    });

    const done = (await untilDone(jobId)) as Record<string, any>;
    expect(done).toMatchObject({
      status: 'completed',
      queryCondition: `tags.site = '${site}'`,
      deviceJobStatistics: { deviceCount: 2, succeededCount: 2, failedCount: 0, pendingCount: 0 },
    });
    expect(done['endTime']).toBeDefined();
    for (const deviceId of targets) {
      const twin = (await hub.registry.getTwin(deviceId)).responseBody as any;
      expect(twin.tags).toEqual({ site, wave: 1 });
      expect(twin.properties.desired.setpoint).toBe(19);
    }
    expect(((await hub.registry.getTwin(other)).responseBody as any).tags).toEqual({});

    const rows = await deviceJobs(jobId);
    expect(rows.status).toBe(200);
    expect(rows.headers['x-ms-item-type']).toBe('DeviceJob');
    expect(
      (rows.json as { deviceId: string; status: string; jobType: string }[])
        .map((r) => [r.deviceId, r.status, r.jobType])
        .sort(),
    ).toEqual(targets.map((d) => [d, 'completed', 'scheduleUpdateTwin']).sort());
  });

  it('when a method job runs on an online and an offline device, then the online one answers into its outcome and the offline one fails', async () => {
    const online = uniqueId('job-on');
    const offline = uniqueId('job-off');
    for (const deviceId of [online, offline]) await hub.registry.create({ deviceId });
    const device = DeviceClient.fromConnectionString(
      hub.emulator.identityConnectionString(online, undefined, 'mqtt'),
      mqttTransport.Mqtt,
    );
    await device.setOptions({ ca: hub.emulator.tls.caCert });
    await device.open();
    try {
      device.onDeviceMethod('reboot', (request, response) => {
        void response.send(200, { rebooting: true, asked: request.payload });
      });
      const jobId = uniqueId('method-job');
      await jobs().scheduleDeviceMethod(
        jobId,
        `deviceId IN ['${online}', '${offline}']`,
        { methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 10 },
        new Date(),
        120,
      );
      const done = (await untilDone(jobId)) as Record<string, any>;
      expect(done['deviceJobStatistics']).toMatchObject({
        deviceCount: 2,
        succeededCount: 1,
        failedCount: 1,
      });
      const rows = (await deviceJobs(jobId)).json as Record<string, any>[];
      const byDevice = Object.fromEntries(rows.map((r) => [r['deviceId'], r]));
      expect(byDevice[online]).toMatchObject({
        status: 'completed',
        outcome: {
          deviceMethodResponse: { status: 200, payload: { rebooting: true, asked: { delay: 5 } } },
        },
      });
      expect(byDevice[offline]).toMatchObject({
        status: 'failed',
        error: { code: 'DeviceNotOnline' },
      });
    } finally {
      await device.close();
    }
  }, 30_000);

  it('when a job is scheduled for later, then it is queued until cancelled; a reused id, a bad condition, an unknown job and an import job each get the hub’s answer', async () => {
    const jobId = uniqueId('later');
    const later = await jobs().scheduleTwinUpdate(
      jobId,
      "deviceId = 'nobody'",
      { etag: '*', tags: { x: 1 } },
      new Date(Date.now() + 3_600_000),
      120,
    );
    expect(later.jobStatus).toMatchObject({ status: 'queued' });
    const cancelled = await jobs().cancelJob(jobId);
    expect(cancelled.jobStatus).toMatchObject({ jobId, status: 'cancelled' });
    const listed = await jobs().createQuery('scheduleUpdateTwin', 'cancelled').next();
    expect((listed.result as { jobId: string }[]).map((j) => j.jobId)).toContain(jobId);

    // azure-iothub turns every 409 into DeviceAlreadyExistsError; the body names the job.
    const reused = await expectSdkError(
      jobs().scheduleTwinUpdate(jobId, "deviceId = 'x'", { tags: {} }, new Date(), 60),
      'DeviceAlreadyExistsError',
    );
    expect(reused.responseBody).toContain('ErrorCode:JobAlreadyExists');
    const badCondition = await raw('PUT', `/jobs/v2/${uniqueId('bad')}`, {
      type: 'scheduleUpdateTwin',
      queryCondition: "tags.site = = 'x'",
      updateTwin: { tags: { a: 1 } },
    });
    expect(badCondition.status).toBe(400);
    const reported = await raw('PUT', `/jobs/v2/${uniqueId('bad')}`, {
      type: 'scheduleUpdateTwin',
      queryCondition: "deviceId = 'x'",
      updateTwin: { tags: { 'bad key$': 1 } },
    });
    expect(reported.status).toBe(400);
    await expect(jobs().getJob(uniqueId('missing'))).rejects.toThrow();
    expect((await raw('GET', `/jobs/v2/${uniqueId('missing')}`)).status).toBe(404);

    const exported = await hub.registry.exportDevicesToBlob(
      'https://example.invalid/c?sig=x',
      true,
    );
    const exportJob = exported as unknown as {
      jobId: string;
      status: string;
      failureReason: string;
    };
    // Queued first, as the hub queues it; it fails once the container cannot be reached.
    expect(['enqueued', 'running', 'failed']).toContain(exportJob.status);
    await expect
      .poll(async () => ((await hub.registry.getJob(exportJob.jobId)) as any).status)
      .toBe('failed');
    expect(((await hub.registry.getJob(exportJob.jobId)) as any).failureReason).toMatch(
      /storage account cannot be reached/,
    );
  });
});

describe('jobs across an emulator restart', () => {
  it('when the emulator stops while an F1-paced job runs, then after the restart the job goes on with the devices it had not reached, and a job scheduled for later is still queued', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobs-durable-'));
    const start = () =>
      startEmulator({
        dataDir,
        httpsPort: 0,
        mqttPort: 0,
        amqpsPort: 0,
        amqpPort: 0,
        // F1 runs jobs on 10 devices a second: 30 devices take three seconds.
        throttle: hubQuota('F1'),
      });
    let emulator = await start();
    try {
      const clients = () => ({
        registry: sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert),
        jobs: jobClientFor(emulator.serviceConnectionString, { ca: emulator.tls.caCert }),
      });
      const devices = Array.from({ length: 30 }, (_, i) => ({ deviceId: `paced-${i}` }));
      await clients().registry.addDevices(devices);
      await clients().jobs.scheduleTwinUpdate(
        'paced',
        "STARTSWITH(deviceId, 'paced-')",
        { etag: '*', tags: { paced: true } },
        new Date(),
        600,
      );
      await clients().jobs.scheduleTwinUpdate(
        'tomorrow',
        "deviceId = 'paced-0'",
        { etag: '*', tags: { tomorrow: true } },
        new Date(Date.now() + 86_400_000),
        600,
      );
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const midway = (await clients().jobs.getJob('paced')).jobStatus as Record<string, any>;
      expect(midway['status']).toBe('running');
      expect(midway['deviceJobStatistics'].succeededCount).toBeGreaterThan(0);
      expect(midway['deviceJobStatistics'].succeededCount).toBeLessThan(30);
      await emulator.close();

      emulator = await start();
      let done: Record<string, any> = {};
      for (let i = 0; i < 100 && done['status'] !== 'completed'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        done = (await clients().jobs.getJob('paced')).jobStatus as Record<string, any>;
      }
      expect(done['deviceJobStatistics']).toMatchObject({ deviceCount: 30, succeededCount: 30 });
      const last = (await clients().registry.getTwin('paced-29')).responseBody as any;
      expect(last.tags).toEqual({ paced: true });
      expect(((await clients().jobs.getJob('tomorrow')).jobStatus as any).status).toBe('queued');
    } finally {
      await emulator.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  it('when the saved jobs or configurations cannot be read, then the emulator starts without them, keeps the files aside, and says so', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jobs-unreadable-'));
    const options = { dataDir, httpsPort: 0, mqttPort: 0, amqpsPort: 0, amqpPort: 0 };
    try {
      await (await startEmulator(options)).close();
      writeFileSync(join(dataDir, 'state', 'jobs.json'), '[{"jobId": "half');
      writeFileSync(join(dataDir, 'state', 'configurations.json'), '{"not": "a list"}');
      const emulator = await startEmulator(options);
      try {
        const registry = sdkRegistry(emulator.serviceConnectionString, emulator.tls.caCert);
        expect((await registry.getConfigurations()).responseBody).toEqual([]);
        const kept = readdirSync(join(dataDir, 'state'));
        expect(kept.some((f) => f.startsWith('jobs.json.unreadable-'))).toBe(true);
        expect(kept.some((f) => f.startsWith('configurations.json.unreadable-'))).toBe(true);
      } finally {
        await emulator.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
