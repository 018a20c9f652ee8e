import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor, serviceClientFor } from '@twinscope/hub-connection';
import { dockerModule, emptyDeploymentManifest } from '@twinscope/contract';
import { runEdgeRuntime, type EdgeRuntime } from './edge-runtime.ts';
import { eventually } from './test-support.ts';

const sensor = dockerModule('contoso/sensor:1.0');
const broken = dockerModule('contoso/broken:0.1', {
  SIMULATOR_EXIT_CODE: '3',
  SIMULATOR_EXIT_AFTER_SECONDS: '0.3',
});

describe('the simulated IoT Edge runtime, on the unmodified device SDK against the emulator', () => {
  let emulator: RunningEmulator;
  let registry: ReturnType<typeof registryFor>;
  let service: ReturnType<typeof serviceClientFor>;
  let runtime: EdgeRuntime | undefined;
  const edge = `edge-${Date.now().toString(36)}`;

  beforeAll(async () => {
    emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0 });
    const ca = emulator.tls.caCert;
    registry = registryFor(emulator.serviceConnectionString, { ca });
    service = serviceClientFor(emulator.serviceConnectionString, {
      ca,
      amqpPort: emulator.amqpsPort,
    });
  });
  afterAll(async () => {
    await runtime?.stop();
    await service.close();
    await emulator.close();
  });

  const deploy = (modules: object, extra: object = {}) =>
    registry.applyConfigurationContentOnDevice(edge, {
      modulesContent: {
        ...emptyDeploymentManifest(modules as never).modulesContent,
        ...extra,
      },
    });
  const agentTwin = async () =>
    (await registry.getModuleTwin(edge, '$edgeAgent')).responseBody as any;
  const call = async (methodName: string, payload: unknown) => {
    try {
      const { result } = await service.invokeDeviceMethod(edge, '$edgeAgent', {
        methodName,
        payload,
        responseTimeoutInSeconds: 10,
      });
      return result as { status: number; payload: any };
    } catch (error) {
      const body = (error as { responseBody?: string }).responseBody ?? '{}';
      return { status: (error as any).response?.statusCode ?? 0, payload: JSON.parse(body) };
    }
  };

  it('when a deployment names two modules, one broken, then the runtime creates and runs them with their own identities, the broken one crash-loops, and $edgeAgent reports both in the agent’s schema', async () => {
    await registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    await deploy(
      { sensor, broken },
      { sensor: { 'properties.desired': { telemetryInterval: 0 } } },
    );
    runtime = await runEdgeRuntime(emulator.identityConnectionString(edge), {
      ca: emulator.tls.caCert,
      ports: { mqtt: emulator.mqttPort, https: emulator.httpsPort },
      backoff: { firstSeconds: 0.2, maxSeconds: 0.5 },
      log: () => undefined,
    });

    const twin = await eventually(
      agentTwin,
      (t) =>
        t.properties.reported.modules?.sensor?.runtimeStatus === 'running' &&
        t.properties.reported.modules?.broken?.restartCount >= 2 &&
        t.properties.reported.modules?.broken?.runtimeStatus === 'backoff',
    );
    const reported = twin.properties.reported;
    expect(reported.lastDesiredVersion).toBe(twin.properties.desired.$version);
    expect(reported.lastDesiredStatus).toEqual({ code: 200, description: '' });
    expect(reported.systemModules.edgeHub).toMatchObject({ runtimeStatus: 'running' });
    expect(reported.modules.sensor).toMatchObject({
      runtimeStatus: 'running',
      restartCount: 0,
      version: '1.0',
      settings: { image: 'contoso/sensor:1.0' },
    });
    expect(reported.modules.sensor.lastStartTimeUtc).toMatch(/^\d{4}-/);
    expect(reported.modules.broken).toMatchObject({ exitCode: 3 });
    expect(reported.modules.broken.statusDescription).toMatch(/exited with code 3/);

    // The modules are identities of their own, made by the device's token, and the how-to's
    // app runs in each: sensor's twin holds its part of the deployment and its launch report.
    const modules = (await registry.getModulesOnDevice(edge)).responseBody as any[];
    expect(modules.map((m) => [m.moduleId, m.managedBy]).sort()).toEqual([
      ['$edgeAgent', 'IotEdge'],
      ['$edgeHub', 'IotEdge'],
      ['broken', 'IotEdge'],
      ['sensor', 'IotEdge'],
    ]);
    const sensorTwin = await eventually(
      async () => (await registry.getModuleTwin(edge, 'sensor')).responseBody as any,
      (t) => typeof t.properties.reported.DateTimeLastAppLaunch === 'string',
    );
    expect(sensorTwin.properties.desired.telemetryInterval).toBe(0);
    const hubTwin = await eventually(
      async () => (await registry.getModuleTwin(edge, '$edgeHub')).responseBody as any,
      (t) =>
        t.properties.reported.lastDesiredStatus?.code === 200 &&
        t.properties.reported.clients?.[`${edge}/sensor`]?.status === 'connected',
    );
    expect(hubTwin.properties.reported.clients[`${edge}/broken`]).toBeDefined();
    expect(hubTwin.properties.reported.lastDesiredVersion).toBe(
      hubTwin.properties.desired.$version,
    );
  });

  it('when $edgeAgent’s methods are called, then ping answers, RestartModule restarts and counts, GetModuleLogs returns what the module wrote with tail, regex and gzip, and bad requests say why', async () => {
    expect(await call('ping', {})).toEqual({ status: 200, payload: null });
    expect(await call('RestartModule', { schemaVersion: '1.0', id: 'sensor' })).toMatchObject({
      status: 200,
    });
    const restarted = await eventually(
      agentTwin,
      (t) =>
        t.properties.reported.modules.sensor.restartCount === 1 &&
        t.properties.reported.modules.sensor.runtimeStatus === 'running',
    );
    expect(restarted.properties.reported.modules.sensor.lastRestartTimeUtc).toMatch(/^\d{4}-/);

    const logs = await call('GetModuleLogs', {
      schemaVersion: '1.0',
      items: { id: '^sensor$', filter: { tail: 3 } },
      encoding: 'none',
      contentType: 'text',
    });
    expect(logs.status).toBe(200);
    expect(logs.payload.map((entry: any) => entry.id)).toEqual(['sensor']);
    const text: string = logs.payload[0].payload;
    expect(text.trim().split('\n')).toHaveLength(3);
    expect(text).toMatch(/^<6> \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} \+00:00 /);
    const found = await call('GetModuleLogs', {
      schemaVersion: '1.0',
      items: [
        { id: 'sensor|broken', filter: { regex: 'RestartModule|exits with code', since: '10m' } },
      ],
      encoding: 'gzip',
      contentType: 'json',
    });
    const byId = Object.fromEntries(
      found.payload.map((entry: any) => [
        entry.id,
        JSON.parse(gunzipSync(Buffer.from(entry.payloadBytes, 'base64')).toString('utf8')),
      ]),
    );
    expect(byId.sensor.map((line: any) => line.text)).toEqual(['Stopped by RestartModule']);
    expect(byId.broken[0]).toMatchObject({ loglevel: 3, stream: 'stderr' });
    expect(byId.broken[0].text).toMatch(/exits with code 3/);

    expect(await call('RestartModule', { schemaVersion: '1.0', id: 'nope' })).toEqual({
      status: 500,
      payload: { message: "Module nope is not in this device's deployment." },
    });
    const bad = await call('GetModuleLogs', { items: [{ id: '(' }] });
    expect(bad.status).toBe(400);
    expect(bad.payload.message).toMatch(/is not a regex/);
    const task = await call('GetTaskStatus', { schemaVersion: '1.0', correlationId: 'abc' });
    expect(task.payload).toMatchObject({ status: 'Unknown', correlationId: 'abc' });
  });

  it('when a deployment is broken or drops a module, then the agent says why and keeps running what it had, or removes the dropped module and its identity', async () => {
    await deploy({
      sensor,
      other: { ...sensor, settings: { image: 'x', createOptions: '{not json' } },
    });
    const refused = await eventually(
      agentTwin,
      (t) => t.properties.reported.lastDesiredVersion === t.properties.desired.$version,
    );
    expect(refused.properties.reported.lastDesiredStatus.code).toBe(400);
    expect(refused.properties.reported.lastDesiredStatus.description).toMatch(
      /Module other: settings.createOptions must be a string holding a JSON object/,
    );
    expect(Object.keys(refused.properties.reported.modules).sort()).toEqual(['broken', 'sensor']);

    await deploy({ sensor });
    const pruned = await eventually(
      agentTwin,
      (t) =>
        t.properties.reported.lastDesiredVersion === t.properties.desired.$version &&
        t.properties.reported.lastDesiredStatus.code === 200,
    );
    expect(Object.keys(pruned.properties.reported.modules)).toEqual(['sensor']);
    const modules = (await registry.getModulesOnDevice(edge)).responseBody as any[];
    expect(modules.map((m) => m.moduleId).sort()).toEqual(['$edgeAgent', '$edgeHub', 'sensor']);

    // Offline: the hub says the module is not connected, and nothing waits forever.
    await runtime!.stop();
    runtime = undefined;
    const offline = await call('ping', {});
    expect(offline.status).toBe(404);
  });
});
