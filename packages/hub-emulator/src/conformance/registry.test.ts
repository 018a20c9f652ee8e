import { describe, expect, it } from 'vitest';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

describe('azure-iothub Registry: devices and modules', () => {
  const hub = useHub();

  it('when a device is created with empty keys, then the hub generates keys, a generationId and an etag', async () => {
    const deviceId = uniqueId('dev');
    const { responseBody: device } = await hub.registry.create({ deviceId });
    expect(device.deviceId).toBe(deviceId);
    expect(device.authentication?.symmetricKey?.primaryKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(device.authentication?.symmetricKey?.secondaryKey).not.toBe(
      device.authentication?.symmetricKey?.primaryKey,
    );
    expect(device.generationId).toMatch(/^\d{18}$/);
    expect(device.etag).toBeTruthy();
    expect(device.connectionState).toBe('Disconnected');
    expect(device.status).toBe('enabled');

    const { responseBody: fetched } = await hub.registry.get(deviceId);
    expect(fetched.authentication?.symmetricKey?.primaryKey).toBe(
      device.authentication?.symmetricKey?.primaryKey,
    );
  });

  it('when a device id is taken, then create raises DeviceAlreadyExistsError', async () => {
    const deviceId = uniqueId('dup');
    await hub.registry.create({ deviceId });
    await expectSdkError(hub.registry.create({ deviceId }), 'DeviceAlreadyExistsError');
  });

  it('when a device is updated, then fields are replaced and the etag changes; a stale etag is refused', async () => {
    const deviceId = uniqueId('upd');
    const { responseBody: created } = await hub.registry.create({ deviceId });
    const { responseBody: updated } = await hub.registry.update({
      ...created,
      status: 'disabled',
      statusReason: 'maintenance',
    });
    expect(updated.status).toBe('disabled');
    expect(updated.statusReason).toBe('maintenance');
    expect(updated.etag).not.toBe(created.etag);
    expect(updated.authentication?.symmetricKey?.primaryKey).toBe(
      created.authentication?.symmetricKey?.primaryKey,
    );
    expect(
      (await hub.registry.getRegistryStatistics()).responseBody.disabledDeviceCount,
    ).toBeGreaterThanOrEqual(1);

    const stale = await hub.raw.send('PUT', `/devices/${deviceId}?api-version=2021-04-12`, {
      body: JSON.stringify({ deviceId, status: 'enabled' }),
      headers: { 'If-Match': `"${created.etag}"` },
    });
    expect(stale.status).toBe(412);
    expect((await hub.registry.get(deviceId)).responseBody.status).toBe('disabled');
  });

  it('when a device is deleted, then get raises DeviceNotFoundError and so does a second delete', async () => {
    const deviceId = uniqueId('del');
    await hub.registry.create({ deviceId });
    await hub.registry.delete(deviceId);
    await expectSdkError(hub.registry.get(deviceId), 'DeviceNotFoundError');
    await expectSdkError(hub.registry.delete(deviceId), 'DeviceNotFoundError');
  });

  it('when devices are listed, then every created device is there and statistics count them', async () => {
    const ids = [uniqueId('list'), uniqueId('list')];
    for (const deviceId of ids) await hub.registry.create({ deviceId });
    const { responseBody: devices } = await hub.registry.list();
    expect(devices.map((d) => d.deviceId)).toEqual(expect.arrayContaining(ids));
    const { responseBody: stats } = await hub.registry.getRegistryStatistics();
    expect(stats.totalDeviceCount).toBe(devices.length);
    expect(stats.enabledDeviceCount + stats.disabledDeviceCount).toBe(stats.totalDeviceCount);
  });

  it('when modules are added, listed, read, updated and removed, then each step behaves like IoT Hub', async () => {
    const deviceId = uniqueId('mods');
    await hub.registry.create({ deviceId });
    const { responseBody: module } = await hub.registry.addModule({ deviceId, moduleId: 'filter' });
    expect(module.moduleId).toBe('filter');
    expect(module.authentication?.symmetricKey?.primaryKey).toBeTruthy();
    await hub.registry.addModule({ deviceId, moduleId: 'sensor', managedBy: 'ops' });
    await expectSdkError(
      hub.registry.addModule({ deviceId, moduleId: 'filter' }),
      'DeviceAlreadyExistsError',
    );

    const { responseBody: modules } = await hub.registry.getModulesOnDevice(deviceId);
    expect(modules.map((m) => m.moduleId).sort()).toEqual(['filter', 'sensor']);

    const { responseBody: updated } = await hub.registry.updateModule({
      ...module,
      managedBy: 'team-a',
    });
    expect(updated.managedBy).toBe('team-a');
    expect(updated.etag).not.toBe(module.etag);
    await expectSdkError(
      hub.registry.updateModule({ ...module, managedBy: 'stale' }),
      'InvalidEtagError',
    );
    const { responseBody: forced } = await hub.registry.updateModule(
      { ...module, managedBy: 'forced' },
      true,
    );
    expect(forced.managedBy).toBe('forced');

    await hub.registry.removeModule(deviceId, 'sensor');
    const missing = await expectSdkError(hub.registry.getModule(deviceId, 'sensor'), 'Error');
    expect(missing.responseBody).toContain('ModuleNotFound');
    expect((await hub.registry.getModule(deviceId, 'filter')).responseBody.managedBy).toBe(
      'forced',
    );
  });

  it('when a module is added to a missing device, then DeviceNotFoundError', async () => {
    await expectSdkError(
      hub.registry.addModule({ deviceId: uniqueId('ghost'), moduleId: 'm' }),
      'DeviceNotFoundError',
    );
  });

  it('when a device is deleted, then its modules and twins are gone too', async () => {
    const deviceId = uniqueId('cascade');
    await hub.registry.create({ deviceId });
    await hub.registry.addModule({ deviceId, moduleId: 'm1' });
    await hub.registry.delete(deviceId);
    await expectSdkError(hub.registry.getModuleTwin(deviceId, 'm1'), 'DeviceNotFoundError');
    await hub.registry.create({ deviceId });
    expect((await hub.registry.getModulesOnDevice(deviceId)).responseBody).toEqual([]);
  });

  it('when keys are given, then they are kept; invalid keys are refused with ArgumentError', async () => {
    const primaryKey = Buffer.alloc(32, 1).toString('base64');
    const secondaryKey = Buffer.alloc(32, 2).toString('base64');
    const deviceId = uniqueId('keys');
    const { responseBody } = await hub.registry.create({
      deviceId,
      authentication: { symmetricKey: { primaryKey, secondaryKey } },
    });
    expect(responseBody.authentication?.symmetricKey).toEqual({ primaryKey, secondaryKey });
    await expectSdkError(
      hub.registry.create({
        deviceId: uniqueId('badkey'),
        authentication: { symmetricKey: { primaryKey: 'short', secondaryKey: '' } },
      }),
      'ArgumentError',
    );
  });
});
