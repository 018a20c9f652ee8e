import { randomBytes } from 'node:crypto';
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';
import { describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

const { ModuleClient } = deviceSdk;
const { Mqtt } = mqttTransport;

describe('automatic configurations through the unmodified Registry', () => {
  const hub = useHub();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 600));
  const twin = async (deviceId: string) =>
    (await hub.registry.getTwin(deviceId)).responseBody as any;
  const config = async (id: string) =>
    (await hub.registry.getConfiguration(id)).responseBody as any;

  it('when a configuration is added, read, listed, updated with its etag and removed, then each answer is the hub’s, and content never changes', async () => {
    const id = uniqueId('crud').toLowerCase();
    const content = { deviceContent: { 'properties.desired': { prop1: 'foo' } } };
    await hub.registry.addConfiguration({
      id,
      content,
      targetCondition: '',
      priority: 20,
    } as never);
    const added = await config(id);
    expect(added).toMatchObject({ id, schemaVersion: '1.0', content, priority: 20 });
    expect(added.etag).toBeTruthy();
    expect(added.systemMetrics.results).toEqual({ targetedCount: 0, appliedCount: 0 });
    const listed = (await hub.registry.getConfigurations()).responseBody as any[];
    expect(listed.map((c) => c.id)).toContain(id);

    await expectSdkError(
      hub.registry.addConfiguration({ id, content, targetCondition: '' } as never),
      'DeviceAlreadyExistsError',
    );
    await hub.registry.updateConfiguration({ ...added, priority: 30 });
    expect((await config(id)).priority).toBe(30);
    // A stale etag is refused; "*" forces.
    await expectSdkError(
      hub.registry.updateConfiguration({ ...added, priority: 40 }),
      'InvalidEtagError',
    );
    await hub.registry.updateConfiguration({ ...added, priority: 40 }, true);
    expect((await config(id)).priority).toBe(40);
    const changed = await expectSdkError(
      hub.registry.updateConfiguration(
        {
          ...(await config(id)),
          content: { deviceContent: { 'properties.desired': { prop1: 'bar' } } },
        },
        true,
      ),
      'ArgumentError',
    );
    expect(changed.responseBody).toContain('CannotModifyImmutableConfigurationContent');
    for (const bad of [
      { id: 'Upper-Case', content, targetCondition: '' },
      { id: uniqueId('bad'), content: { deviceContent: { 'tags.x': 1 } }, targetCondition: '' },
      { id: uniqueId('bad'), content, targetCondition: "tags.x = = 'y'" },
    ])
      await expectSdkError(hub.registry.addConfiguration(bad as never), 'ArgumentError');

    await hub.registry.removeConfiguration(id);
    await expect(hub.registry.getConfiguration(id)).rejects.toThrow();
  });

  it('when configurations target twins, then the highest priority applies per path, each twin says which applied, metrics count them, and a twin that starts matching gets the content', async () => {
    const env = uniqueId('env');
    const [a, b, c] = [uniqueId('cfg-a'), uniqueId('cfg-b'), uniqueId('cfg-c')];
    for (const [deviceId, value] of [
      [a, env],
      [b, env],
      [c, 'prod'],
    ] as const) {
      await hub.registry.create({ deviceId });
      await hub.registry.updateTwin(deviceId, { tags: { env: value } }, '*');
    }
    const low = uniqueId('low').toLowerCase();
    const high = uniqueId('high').toLowerCase();
    await hub.registry.addConfiguration({
      id: low,
      content: { deviceContent: { 'properties.desired.telemetry': { interval: 30 } } },
      targetCondition: `tags.env = '${env}'`,
      priority: 10,
      metrics: { queries: { inEnv: `SELECT deviceId FROM devices WHERE tags.env = '${env}'` } },
    } as never);
    await hub.registry.addConfiguration({
      id: high,
      content: { deviceContent: { 'properties.desired.telemetry': { interval: 5 } } },
      targetCondition: `deviceId = '${a}'`,
      priority: 20,
    } as never);
    await settle();

    expect((await twin(a)).properties.desired.telemetry).toEqual({ interval: 5 });
    expect((await twin(a)).configurations).toEqual({
      [high]: { status: 'Applied' },
      [low]: { status: 'Targeted' },
    });
    expect((await twin(b)).properties.desired.telemetry).toEqual({ interval: 30 });
    expect((await twin(b)).configurations).toEqual({ [low]: { status: 'Applied' } });
    expect((await twin(c)).properties.desired.telemetry).toBeUndefined();
    expect((await twin(c)).configurations).toBeUndefined();
    expect((await config(low)).systemMetrics.results).toEqual({
      targetedCount: 2,
      appliedCount: 1,
    });
    expect((await config(low)).metrics.results).toEqual({ inEnv: 2 });
    expect((await config(high)).systemMetrics.results).toEqual({
      targetedCount: 1,
      appliedCount: 1,
    });

    // A twin that comes to match is configured shortly after, as on the hub.
    await hub.registry.updateTwin(c, { tags: { env } }, '*');
    await settle();
    expect((await twin(c)).properties.desired.telemetry).toEqual({ interval: 30 });
    expect((await config(low)).systemMetrics.results).toEqual({
      targetedCount: 3,
      appliedCount: 2,
    });

    // Removing the winner hands the path to the next priority.
    await hub.registry.removeConfiguration(high);
    await settle();
    expect((await twin(a)).properties.desired.telemetry).toEqual({ interval: 30 });
    expect((await twin(a)).configurations).toEqual({ [low]: { status: 'Applied' } });
  });

  it('when a condition or metric query is tested, then its errors are said, not raised', async () => {
    const response = await hub.raw.send(
      'POST',
      '/configurations/testQueries?api-version=2021-04-12',
      {
        body: JSON.stringify({
          targetCondition: "tags.x = = 'y'",
          customMetricQueries: { good: 'SELECT deviceId FROM devices', bad: 'SELECT FROM' },
        }),
      },
    );
    expect(response.status).toBe(200);
    const body = response.json as any;
    expect(body.targetConditionError).toBeTruthy();
    expect(body.customMetricQueryErrors.good).toBe('');
    expect(body.customMetricQueryErrors.bad).toBeTruthy();
  });
});

describe('IoT Edge: system modules and applyConfigurationContent through the unmodified Registry', () => {
  const hub = useHub();
  const moduleTwin = async (deviceId: string, moduleId: string) =>
    (await hub.registry.getModuleTwin(deviceId, moduleId)).responseBody as any;
  const refused = async (promise: Promise<unknown>, why: RegExp) => {
    const error = await expectSdkError(promise, 'ArgumentError');
    expect((JSON.parse(error.responseBody ?? '{}') as { Message?: string }).Message).toMatch(why);
  };
  const desiredOf = (twin: any) => {
    const { $metadata: _m, $version: _v, ...values } = twin.properties.desired;
    return values;
  };

  it('when an IoT Edge device is created, then it has $edgeAgent and $edgeHub without keys of their own, and applied content sets their desired properties, layers included, and the modules created later', async () => {
    const edge = uniqueId('edge');
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    const modules = (await hub.registry.getModulesOnDevice(edge)).responseBody as any[];
    expect(modules.map((m) => m.moduleId).sort()).toEqual(['$edgeAgent', '$edgeHub']);
    expect(modules[0].authentication.type).toBe('none');
    // A plain device has none.
    const plain = uniqueId('plain');
    await hub.registry.create({ deviceId: plain });
    expect((await hub.registry.getModulesOnDevice(plain)).responseBody).toEqual([]);

    const agent = {
      schemaVersion: '1.1',
      modules: { sensor: { type: 'docker', status: 'running' } },
    };
    await hub.registry.applyConfigurationContentOnDevice(edge, {
      modulesContent: {
        $edgeAgent: { 'properties.desired': agent },
        $edgeHub: {
          'properties.desired': { schemaVersion: '1.1', routes: { all: 'FROM /* INTO $upstream' } },
          'properties.desired.routes.sensor': 'FROM /messages/modules/sensor/* INTO $upstream',
        },
        sensor: { 'properties.desired': { interval: 5 } },
      },
    });
    expect(desiredOf(await moduleTwin(edge, '$edgeAgent'))).toEqual(agent);
    expect(desiredOf(await moduleTwin(edge, '$edgeHub')).routes).toEqual({
      all: 'FROM /* INTO $upstream',
      sensor: 'FROM /messages/modules/sensor/* INTO $upstream',
    });
    // The runtime creates the deployment's module later: it starts with its part.
    await hub.registry.addModule({ deviceId: edge, moduleId: 'sensor' } as never);
    expect(desiredOf(await moduleTwin(edge, 'sensor'))).toEqual({ interval: 5 });

    // Applying again replaces: what the new content leaves out is removed.
    await hub.registry.applyConfigurationContentOnDevice(edge, {
      modulesContent: {
        $edgeAgent: { 'properties.desired': { schemaVersion: '1.1', modules: {} } },
        $edgeHub: { 'properties.desired': { schemaVersion: '1.1' } },
      },
    });
    expect(desiredOf(await moduleTwin(edge, '$edgeAgent'))).toEqual({
      schemaVersion: '1.1',
      modules: {},
    });
    expect(desiredOf(await moduleTwin(edge, '$edgeHub'))).toEqual({ schemaVersion: '1.1' });
  });

  it('when content goes to a device that is not IoT Edge, lacks a system module or is not modules content, then 400 says why and nothing changes', async () => {
    const plain = uniqueId('plain');
    await hub.registry.create({ deviceId: plain });
    const both = {
      $edgeAgent: { 'properties.desired': {} },
      $edgeHub: { 'properties.desired': {} },
    };
    await refused(
      hub.registry.applyConfigurationContentOnDevice(plain, { modulesContent: both }),
      /not an IoT Edge device/,
    );
    const edge = uniqueId('edge');
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    const before = await moduleTwin(edge, '$edgeAgent');
    for (const [content, why] of [
      [{ modulesContent: { $edgeAgent: both.$edgeAgent } }, /needs \$edgeHub/],
      [
        { deviceContent: { 'properties.desired': {} } },
        /deviceContent and moduleContent are for automatic configurations/,
      ],
      [{ modulesContent: { ...both, x: { tags: {} } } }, /"tags" is not a twin path/],
      [
        { modulesContent: { ...both, $edgeAgent: { 'properties.desired': { 'bad key$': 1 } } } },
        /bad key/,
      ],
    ] as const)
      await refused(hub.registry.applyConfigurationContentOnDevice(edge, content as never), why);
    expect((await moduleTwin(edge, '$edgeAgent')).properties.desired.$version).toBe(
      before.properties.desired.$version,
    );
    await expectSdkError(
      hub.registry.applyConfigurationContentOnDevice(uniqueId('none'), { modulesContent: both }),
      'DeviceNotFoundError',
    );
  });
});

describe('IoT Edge: deployments at scale through the unmodified Registry', () => {
  const hub = useHub();
  const settle = () => new Promise((resolve) => setTimeout(resolve, 600));
  const agentTwin = async (deviceId: string) =>
    (await hub.registry.getModuleTwin(deviceId, '$edgeAgent')).responseBody as any;
  const deployment = (id: string, priority: number, modulesContent: object, tag: string) => ({
    id,
    content: { modulesContent },
    targetCondition: `tags.site = '${tag}'`,
    priority,
  });

  it('when deployments target IoT Edge devices, then the highest whole deployment applies with higher layers on top, $edgeAgent says which applied, plain devices are left alone and metrics count what the agents report', async () => {
    const site = uniqueId('site');
    const edge = uniqueId('edge');
    const plain = uniqueId('plain');
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    await hub.registry.create({ deviceId: plain });
    for (const id of [edge, plain]) await hub.registry.updateTwin(id, { tags: { site } }, '*');
    const whole = (image: string) => ({
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          modules: { sensor: { type: 'docker', status: 'running', settings: { image } } },
        },
      },
      $edgeHub: { 'properties.desired': { schemaVersion: '1.1', routes: {} } },
      sensor: { 'properties.desired': { interval: 5 } },
    });
    const low = uniqueId('low').toLowerCase();
    const base = uniqueId('base').toLowerCase();
    const layer = uniqueId('layer').toLowerCase();
    const under = uniqueId('under').toLowerCase();
    await hub.registry.addConfiguration(deployment(low, 1, whole('sensor:0.9'), site) as never);
    await hub.registry.addConfiguration(deployment(base, 10, whole('sensor:1.0'), site) as never);
    await hub.registry.addConfiguration(
      deployment(
        layer,
        20,
        {
          $edgeAgent: {
            'properties.desired.modules.probe': { type: 'docker', status: 'running' },
          },
          $edgeHub: { 'properties.desired.routes.probe': 'FROM /messages/* INTO $upstream' },
          sensor: { 'properties.desired.interval': 9 },
        },
        site,
      ) as never,
    );
    // A layer of a lower priority than the base does not apply.
    await hub.registry.addConfiguration(
      deployment(
        under,
        5,
        { $edgeAgent: { 'properties.desired.modules.ghost': { type: 'docker' } } },
        site,
      ) as never,
    );
    await settle();
    const agent = await agentTwin(edge);
    expect(Object.keys(agent.properties.desired.modules).sort()).toEqual(['probe', 'sensor']);
    expect(agent.properties.desired.modules.sensor.settings.image).toBe('sensor:1.0');
    expect(agent.configurations).toEqual({
      [low]: { status: 'Targeted' },
      [base]: { status: 'Applied' },
      [layer]: { status: 'Applied' },
      [under]: { status: 'Targeted' },
    });
    const hubTwin = (await hub.registry.getModuleTwin(edge, '$edgeHub')).responseBody as any;
    expect(hubTwin.properties.desired.routes).toEqual({
      probe: 'FROM /messages/* INTO $upstream',
    });
    // The runtime creates the module later: it starts with the layered value.
    await hub.registry.addModule({ deviceId: edge, moduleId: 'sensor' } as never);
    const sensor = (await hub.registry.getModuleTwin(edge, 'sensor')).responseBody as any;
    expect(sensor.properties.desired.interval).toBe(9);
    expect((await hub.registry.getModulesOnDevice(plain)).responseBody).toEqual([]);

    const metrics = async () =>
      ((await hub.registry.getConfiguration(base)).responseBody as any).systemMetrics.results;
    expect(await metrics()).toEqual({
      targetedCount: 1,
      appliedCount: 1,
      reportedSuccessfulCount: 0,
      reportedFailedCount: 0,
    });
    // The agent reports it caught up: the deployment counts it as successful.
    await hub.registry.updateTwin(edge, { tags: { site, seen: true } }, '*');
    const version = (await agentTwin(edge)).properties.desired.$version;
    // (What the agent writes; the simulated runtime's tests write it over the device SDK.)
    hub.emulator.registry.patchReported(edge, '$edgeAgent', {
      lastDesiredVersion: version,
      lastDesiredStatus: { code: 200, description: '' },
    });
    await settle();
    expect((await metrics()).reportedSuccessfulCount).toBe(1);

    // The same id created again is a new device: the deployments reach it too.
    await hub.registry.delete(edge);
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    await hub.registry.updateTwin(edge, { tags: { site } }, '*');
    await settle();
    expect(Object.keys((await agentTwin(edge)).properties.desired.modules).sort()).toEqual([
      'probe',
      'sensor',
    ]);

    // A device that stops matching keeps its settings but loses the marker.
    await hub.registry.updateTwin(edge, { tags: { site: 'elsewhere' } }, '*');
    await settle();
    const left = await agentTwin(edge);
    expect(left.configurations ?? {}).toEqual({});
    expect(Object.keys(left.properties.desired.modules).sort()).toEqual(['probe', 'sensor']);
  });

  it('when a deployment is not one the hub takes, then it is refused with the reason and nothing is stored', async () => {
    for (const [modulesContent, why] of [
      [{ $edgeAgent: { 'properties.desired': {} } }, /needs \$edgeHub/],
      [
        { $edgeAgent: { 'properties.desired.modules.x': 1 }, y: { tags: 1 } },
        /"tags" is not a twin path/,
      ],
      [{ $edgeAgent: { 'properties.desired.modules': { 'bad key$': 1 } } }, /bad key/],
    ] as const) {
      const id = uniqueId('bad').toLowerCase();
      const error = await expectSdkError(
        hub.registry.addConfiguration(deployment(id, 1, modulesContent, 'x') as never),
        'ArgumentError',
      );
      expect(JSON.parse(error.responseBody ?? '{}').Message).toMatch(why);
      const listed = (await hub.registry.getConfigurations()).responseBody as any[];
      expect(listed.map((c) => c.id)).not.toContain(id);
    }
  });
});

describe('IoT Edge: device scopes through the unmodified Registry', () => {
  const hub = useHub();
  const device = async (deviceId: string) => (await hub.registry.get(deviceId)).responseBody as any;

  it('when devices are placed under IoT Edge devices, then scopes are kept as the hub keeps them and anything else is refused with the reason', async () => {
    const root = uniqueId('root');
    await hub.registry.create({ deviceId: root, capabilities: { iotEdge: true } } as never);
    const { deviceScope: rootScope } = await device(root);
    expect(rootScope).toMatch(new RegExp(`^ms-azure-iot-edge://${root}-\\d+$`));

    // A leaf given only a scope has it as its parent too.
    const leaf = uniqueId('leaf');
    await hub.registry.create({ deviceId: leaf, deviceScope: rootScope } as never);
    expect(await device(leaf)).toMatchObject({ deviceScope: rootScope, parentScopes: [rootScope] });
    // A child IoT Edge device gets its own scope under its parent.
    const child = uniqueId('child');
    await hub.registry.create({
      deviceId: child,
      capabilities: { iotEdge: true },
      parentScopes: [rootScope],
    } as never);
    const created = await device(child);
    expect(created.parentScopes).toEqual([rootScope]);
    expect(created.deviceScope).not.toBe(rootScope);

    // Refused: a scope no IoT Edge device has, and changing an IoT Edge device's own scope.
    await expectSdkError(
      hub.registry.update({ ...(await device(leaf)), deviceScope: 'not-a-scope' }),
      'ArgumentError',
    );
    await expectSdkError(
      hub.registry.update({ ...created, deviceScope: rootScope }),
      'ArgumentError',
    );
    await expectSdkError(
      hub.registry.create({
        deviceId: uniqueId('orphan'),
        parentScopes: ['ms-azure-iot-edge://gone-1'],
      } as never),
      'ArgumentError',
    );
    expect((await device(leaf)).deviceScope).toBe(rootScope);
    // Moving a leaf under another IoT Edge device is allowed.
    await hub.registry.update({
      ...(await device(leaf)),
      deviceScope: created.deviceScope,
      parentScopes: [],
    });
    expect(await device(leaf)).toMatchObject({
      deviceScope: created.deviceScope,
      parentScopes: [created.deviceScope],
    });
  });
});

describe('IoT Edge: the device’s own token manages its modules, as the Edge runtime does', () => {
  const hub = useHub();
  const deviceToken = (deviceId: string) => {
    const key = hub.emulator.registry.find(deviceId)!.authentication.symmetricKey.primaryKey!;
    return createSasToken(
      `${hub.emulator.hostName}/devices/${deviceId}`,
      key,
      Math.floor(Date.now() / 1000) + 600,
    );
  };
  // What aziot-identityd sends: the 2017-11-08-preview api and an unquoted If-Match.
  const moduleCall = (
    method: string,
    deviceId: string,
    moduleId: string,
    token: string,
    options: { body?: object; ifMatch?: string } = {},
  ) =>
    hub.raw.send(
      method,
      `/devices/${deviceId}/modules/${encodeURIComponent(moduleId)}?api-version=2017-11-08-preview`,
      {
        authorization: token,
        ...(options.body ? { body: JSON.stringify(options.body) } : {}),
        ...(options.ifMatch ? { headers: { 'If-Match': options.ifMatch } } : {}),
      },
    );
  const sasModule = (deviceId: string, moduleId: string, key: string) => ({
    moduleId,
    deviceId,
    managedBy: 'IotEdge',
    authentication: { type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: key } },
  });

  it('when an IoT Edge device’s token gives $edgeAgent keys and creates, lists and deletes modules, then the hub takes it, and the module connects with its keys; other tokens and system-module deletes are refused', async () => {
    const edge = uniqueId('edge');
    const other = uniqueId('other-edge');
    const plain = uniqueId('plain');
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    await hub.registry.create({ deviceId: other, capabilities: { iotEdge: true } } as never);
    await hub.registry.create({ deviceId: plain });
    const token = deviceToken(edge);
    const key = randomBytes(32).toString('base64');

    const keyed = await moduleCall('PUT', edge, '$edgeAgent', token, {
      body: sasModule(edge, '$edgeAgent', key),
      ifMatch: '*',
    });
    expect(keyed.status).toBe(200);
    expect(keyed.json).toMatchObject({ moduleId: '$edgeAgent', managedBy: 'IotEdge' });
    const created = await moduleCall('PUT', edge, 'sensor', token, {
      body: sasModule(edge, 'sensor', key),
    });
    expect(created.status).toBe(200);
    const listed = await hub.raw.send(
      'GET',
      `/devices/${edge}/modules?api-version=2017-11-08-preview`,
      { authorization: token },
    );
    expect((listed.json as { moduleId: string }[]).map((m) => m.moduleId).sort()).toEqual([
      '$edgeAgent',
      '$edgeHub',
      'sensor',
    ]);

    // $edgeAgent now connects with the keys the runtime gave it, and writes its reported.
    const agent = ModuleClient.fromConnectionString(
      hub.emulator.identityConnectionString(edge, '$edgeAgent'),
      Mqtt,
    );
    await agent.setOptions({ ca: hub.emulator.tls.caCert });
    await agent.open();
    const twin = await agent.getTwin();
    await new Promise<void>((resolve, reject) =>
      twin.properties.reported.update({ lastDesiredStatus: { code: 200 } }, (error?: Error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await agent.close();
    const agentTwin = (await hub.registry.getModuleTwin(edge, '$edgeAgent')).responseBody as any;
    expect(agentTwin.properties.reported.lastDesiredStatus).toEqual({ code: 200 });

    // Not its own device, not an IoT Edge device, not a system module to delete.
    for (const refused of [
      await moduleCall('PUT', other, 'sensor', token, { body: sasModule(other, 'sensor', key) }),
      await moduleCall('PUT', plain, 'sensor', deviceToken(plain), {
        body: sasModule(plain, 'sensor', key),
      }),
      await moduleCall('DELETE', edge, '$edgeHub', token, { ifMatch: '*' }),
    ]) {
      expect(refused.status).toBe(401);
      expect(refused.text).toMatch(/lacks RegistryWrite|cannot delete its system module/);
    }
    expect((await moduleCall('DELETE', edge, 'sensor', token, { ifMatch: '*' })).status).toBe(204);
    const left = (await hub.registry.getModulesOnDevice(edge)).responseBody as any[];
    expect(left.map((m) => m.moduleId).sort()).toEqual(['$edgeAgent', '$edgeHub']);
  });
});

describe('IoT Edge: edgeHub reads its device scope', () => {
  const hub = useHub();

  it('when $edgeHub asks for the devices and modules in its scope, then it gets its own device, the devices under it and their modules a page at a time; other credentials are refused', async () => {
    const edge = uniqueId('edge');
    await hub.registry.create({ deviceId: edge, capabilities: { iotEdge: true } } as never);
    const scope = ((await hub.registry.get(edge)).responseBody as any).deviceScope as string;
    const leaf = uniqueId('leaf');
    const child = uniqueId('child-edge');
    await hub.registry.create({ deviceId: leaf, deviceScope: scope } as never);
    await hub.registry.addModule({ deviceId: leaf, moduleId: 'reader' } as never);
    await hub.registry.create({
      deviceId: child,
      capabilities: { iotEdge: true },
      parentScopes: [scope],
    } as never);
    await hub.registry.create({ deviceId: uniqueId('elsewhere') });
    // The runtime gives $edgeHub keys with the device's own token, then edgeHub signs with them.
    const key = randomBytes(32).toString('base64');
    const deviceKey = hub.emulator.registry.find(edge)!.authentication.symmetricKey.primaryKey!;
    const expiry = Math.floor(Date.now() / 1000) + 600;
    const keyed = await hub.raw.send(
      'PUT',
      `/devices/${edge}/modules/%24edgeHub?api-version=2017-11-08-preview`,
      {
        authorization: createSasToken(
          `${hub.emulator.hostName}/devices/${edge}`,
          deviceKey,
          expiry,
        ),
        headers: { 'If-Match': '*' },
        body: JSON.stringify({
          moduleId: '$edgeHub',
          deviceId: edge,
          managedBy: 'IotEdge',
          authentication: { type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: key } },
        }),
      },
    );
    expect(keyed.status).toBe(200);
    const edgeHubToken = createSasToken(
      `${hub.emulator.hostName}/devices/${edge}/modules/$edgeHub`,
      key,
      expiry,
    );
    const first = await hub.raw.send(
      'GET',
      `/devices/${edge}/modules/%24edgeHub/devicesAndModulesInDeviceScope?deviceCount=2&continuationToken=&api-version=2018-08-30-preview`,
      { authorization: edgeHubToken },
    );
    expect(first.status).toBe(200);
    const page1 = first.json as any;
    expect(page1.devices.map((d: any) => d.deviceId)).toEqual([edge, leaf]);
    expect(page1.modules.map((m: any) => `${m.deviceId}/${m.moduleId}`).sort()).toEqual(
      [`${edge}/$edgeAgent`, `${edge}/$edgeHub`, `${leaf}/reader`].sort(),
    );
    // Keys included: edgeHub authenticates its children with them offline.
    expect(page1.devices[1].authentication.symmetricKey.primaryKey).toBeTruthy();
    const second = await hub.raw.send('GET', page1.continuationLink, {
      authorization: edgeHubToken,
    });
    const page2 = second.json as any;
    expect(page2.devices.map((d: any) => d.deviceId)).toEqual([child]);
    expect(page2.continuationLink).toBeNull();

    const leafKey = hub.emulator.registry.find(leaf)!.authentication.symmetricKey.primaryKey!;
    const refused = await hub.raw.send(
      'GET',
      `/devices/${edge}/modules/%24edgeHub/devicesAndModulesInDeviceScope?api-version=2018-08-30-preview`,
      {
        authorization: createSasToken(`${hub.emulator.hostName}/devices/${leaf}`, leafKey, expiry),
      },
    );
    expect(refused.status).toBe(401);
    const badCount = await hub.raw.send(
      'GET',
      `/devices/${edge}/modules/%24edgeHub/devicesAndModulesInDeviceScope?deviceCount=0&api-version=2018-08-30-preview`,
      { authorization: edgeHubToken },
    );
    expect(badCount.status).toBe(400);
  });
});
