import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  checkDeploymentManifest,
  dockerModule,
  emptyDeploymentManifest,
} from '@twinscope/contract';
import { runEdgeRuntime, type EdgeRuntime } from '@twinscope/module-simulator';
import { useStack } from './harness.ts';

/** Reads until `ok` holds (vitest's waitFor retries a throwing callback). */
const eventually = <T>(read: () => Promise<T>, ok: (value: T) => boolean) =>
  vi.waitFor(
    async () => {
      const value = await read();
      expect(ok(value), JSON.stringify(value).slice(0, 2000)).toBe(true);
      return value;
    },
    { timeout: 20_000, interval: 150 },
  );

/** A manifest with custom modules, from the one a new Edge device starts with. */
const manifestWith = (modules: Record<string, object>): any =>
  emptyDeploymentManifest(modules as never);

describe('BFF: IoT Edge devices against the emulator and the simulated runtime', () => {
  const stack = useStack();
  let runtime: EdgeRuntime | undefined;
  afterAll(async () => {
    await runtime?.stop();
  });
  const overview = async (deviceId: string) =>
    (await stack.api(`/api/devices/${deviceId}/edge`)).body;
  const startRuntime = async (deviceId: string) => {
    runtime = await runEdgeRuntime(stack.emulator.identityConnectionString(deviceId), {
      ca: stack.emulator.tls.caCert,
      ports: { mqtt: stack.emulator.mqttPort, https: stack.emulator.httpsPort },
      backoff: { firstSeconds: 0.3, maxSeconds: 1 },
      log: () => undefined,
    });
  };

  it('when an Admin sets modules on a new Edge device and its runtime starts, then the page shows each module against the deployment, the crash-looping one explained, and restarts and logs go through the agent', async () => {
    const created = await stack.api('/api/devices', {
      method: 'POST',
      json: { deviceId: 'edge-bff-01', iotEdge: true },
    });
    expect(created.status).toBe(201);
    const before = await overview('edge-bff-01');
    expect(before.runtime.connected).toBe(false);
    expect(before.deployment.summary).toMatch(/never reported/);
    expect(before.modules.map((m: any) => m.name)).toEqual(['edgeAgent', 'edgeHub']);
    expect(before.deviceScope).toMatch(/^ms-azure-iot-edge:\/\/edge-bff-01-/);
    // Set modules starts from the runtime alone, a manifest the checks accept.
    expect(checkDeploymentManifest(before.manifest)).toEqual([]);
    expect(before.manifest.modulesContent.$edgeAgent['properties.desired'].modules).toEqual({});

    const set = await stack.api('/api/devices/edge-bff-01/edge/modules-content', {
      method: 'PUT',
      json: manifestWith({
        sensor: dockerModule('contoso/sensor:1.0'),
        broken: dockerModule('contoso/broken:0.1', {
          SIMULATOR_EXIT_CODE: '2',
          SIMULATOR_EXIT_AFTER_SECONDS: '0.3',
        }),
      }),
    });
    expect(set.status).toBe(204);
    await startRuntime('edge-bff-01');

    const running = await eventually(
      () => overview('edge-bff-01'),
      (o) =>
        o.modules.find((m: any) => m.name === 'sensor')?.state === 'running' &&
        o.modules.find((m: any) => m.name === 'broken')?.state === 'failed',
    );
    expect(running.runtime).toMatchObject({ connected: true, version: '1.5.0' });
    expect(running.deployment).toMatchObject({
      status: { code: 200 },
      healthy: false,
    });
    expect(running.deployment.summary).toMatch(
      /1 module failing: broken \(exit code 2, restarted \d+ times\)/,
    );
    expect(running.modules.find((m: any) => m.name === 'sensor')).toMatchObject({
      desired: { image: 'contoso/sensor:1.0', status: 'running', restartPolicy: 'always' },
      reported: { runtimeStatus: 'running', restartCount: 0 },
    });
    // "Set modules" starts from what is deployed.
    expect(
      Object.keys(running.manifest.modulesContent.$edgeAgent['properties.desired'].modules).sort(),
    ).toEqual(['broken', 'sensor']);

    const restart = await stack.api('/api/devices/edge-bff-01/edge/modules/sensor/restart', {
      method: 'POST',
    });
    expect(restart.status).toBe(204);
    await eventually(
      () => overview('edge-bff-01'),
      (o) => o.modules.find((m: any) => m.name === 'sensor')?.reported?.restartCount === 1,
    );
    const logs = await stack.api(
      '/api/devices/edge-bff-01/edge/modules/sensor/logs?tail=50&filter=RestartModule&since=10m',
    );
    expect(logs.status).toBe(200);
    expect(logs.body.lines).toEqual([
      { at: expect.stringMatching(/^\d{4}-/), level: 6, text: 'Stopped by RestartModule' },
    ]);
    const tail = await stack.api('/api/devices/edge-bff-01/edge/modules/broken/logs?tail=2');
    expect(tail.body.lines).toHaveLength(2);
    // Nothing is that new: since is passed on to the agent.
    const future = Math.floor(Date.now() / 1000) + 3600;
    const none = await stack.api(
      `/api/devices/edge-bff-01/edge/modules/broken/logs?since=${future}`,
    );
    expect(none.body.lines).toEqual([]);
    for (const bad of ['since=yesterday', 'filter=(', 'tail=0'])
      expect(
        (await stack.api(`/api/devices/edge-bff-01/edge/modules/broken/logs?${bad}`)).status,
        bad,
      ).toBe(400);
    const audit = (await stack.api('/api/audit?deviceId=edge-bff-01')).body;
    expect(audit.entries.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(['edge.set-modules', 'edge.restart-module']),
    );

    // The runtime goes offline: a restart says so, and nothing waits for long.
    await runtime!.stop();
    runtime = undefined;
    const offline = await stack.api('/api/devices/edge-bff-01/edge/modules/sensor/restart', {
      method: 'POST',
    });
    expect(offline.status).toBe(404);
    expect(offline.body.code).toBe('device_offline');
    expect(offline.body.message).toMatch(/IoT Edge runtime of edge-bff-01 is offline/);
    // The page says what it shows is the last report of an offline runtime.
    const stale = await eventually(
      () => overview('edge-bff-01'),
      (o) => !o.runtime.connected,
    );
    expect(stale.deployment.summary).toMatch(
      /^The IoT Edge runtime is offline; as it last reported: 1 module failing: broken/,
    );
  });

  it('when a manifest breaks the schema, names a module the hub refuses or is too large, then it is refused with every reason and nothing is sent', async () => {
    await stack.api('/api/devices', {
      method: 'POST',
      json: { deviceId: 'edge-bff-02', iotEdge: true },
    });
    const version = async () =>
      (await stack.registry.getModuleTwin('edge-bff-02', '$edgeAgent')).responseBody.properties
        .desired.$version;
    const start = await version();
    const bad = manifestWith({
      'bad name': dockerModule('x'),
      sensor: {
        ...dockerModule('contoso/sensor'),
        settings: { image: 'x', createOptions: { a: 1 } },
      },
    });
    bad.modulesContent.$edgeHub['properties.desired'].routes = { 'r.1': 'TO nowhere' };
    const refused = await stack.api('/api/devices/edge-bff-02/edge/modules-content', {
      method: 'PUT',
      json: bad,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.violations.map((v: any) => v.path)).toEqual(
      expect.arrayContaining([
        '$edgeAgent.modules.bad name',
        '$edgeAgent.modules.sensor.settings.createOptions',
        '$edgeHub.routes.r.1',
      ]),
    );
    const huge = manifestWith({ sensor: dockerModule('contoso/sensor') });
    huge.modulesContent.sensor = {
      'properties.desired': { blob: Array.from({ length: 10 }, () => 'x'.repeat(4000)) },
    };
    const tooLarge = await stack.api('/api/devices/edge-bff-02/edge/modules-content', {
      method: 'PUT',
      json: huge,
    });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.message).toMatch(/32 KB|too large|bytes/i);
    const notJson = await stack.api('/api/devices/edge-bff-02/edge/modules-content', {
      method: 'PUT',
      body: '{"modulesContent": {',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(await version()).toBe(start);

    const plain = await stack.api('/api/devices/berlin-b1-meter-03/edge');
    expect(plain.status).toBe(400);
    expect(plain.body.message).toBe('berlin-b1-meter-03 is not an IoT Edge device.');
  });

  it('when deployments target the device and devices sit under it, then the page lists them with priority and status, and the children', async () => {
    await stack.api('/api/devices', {
      method: 'POST',
      json: { deviceId: 'edge-bff-03', iotEdge: true },
    });
    await stack.registry.updateTwin('edge-bff-03', { tags: { ring: 'edge-canary' } }, '*');
    const { modulesContent } = manifestWith({ sensor: dockerModule('contoso/sensor:2.0') });
    await stack.registry.addConfiguration({
      id: 'edge-base',
      content: { modulesContent },
      targetCondition: "tags.ring = 'edge-canary'",
      priority: 10,
    } as never);
    await stack.registry.addConfiguration({
      id: 'edge-layer',
      content: {
        modulesContent: {
          $edgeAgent: { 'properties.desired.modules.probe': dockerModule('contoso/probe:1.0') },
        },
      },
      targetCondition: "tags.ring = 'edge-canary'",
      priority: 20,
    } as never);
    const scope = ((await stack.registry.get('edge-bff-03')).responseBody as any).deviceScope;
    await stack.registry.create({ deviceId: 'leaf-under-edge', deviceScope: scope } as never);

    const seen = await eventually(
      () => overview('edge-bff-03'),
      (o) => o.deployments.length === 2,
    );
    expect(seen.deployments).toEqual([
      expect.objectContaining({ id: 'edge-base', priority: 10, layered: false, status: 'Applied' }),
      expect.objectContaining({ id: 'edge-layer', priority: 20, layered: true, status: 'Applied' }),
    ]);
    expect(seen.modules.map((m: any) => m.name)).toEqual([
      'edgeAgent',
      'edgeHub',
      'probe',
      'sensor',
    ]);
    expect(seen.children).toEqual([{ deviceId: 'leaf-under-edge', iotEdge: false }]);
    const leaf = (await stack.api('/api/devices/leaf-under-edge')).body.device;
    expect(leaf.parentScopes).toEqual([scope]);
  });
});
