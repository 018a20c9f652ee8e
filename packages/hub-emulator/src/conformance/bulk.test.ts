import { describe, expect, it } from 'vitest';
import { expectSdkError } from './sdk-errors.ts';
import { uniqueId, useHub } from './hub.ts';

describe('azure-iothub Registry: bulk registry operations', () => {
  const hub = useHub();

  it('when devices are added, updated and removed in bulk, then each step applies to every device', async () => {
    const ids = [uniqueId('bulk'), uniqueId('bulk'), uniqueId('bulk')];
    const { responseBody: added } = await hub.registry.addDevices(
      ids.map((deviceId) => ({ deviceId })),
    );
    expect(added).toMatchObject({ isSuccessful: true, errors: [] });
    for (const deviceId of ids) {
      expect(
        (await hub.registry.get(deviceId)).responseBody.authentication?.symmetricKey?.primaryKey,
      ).toBeTruthy();
    }
    const { responseBody: updated } = await hub.registry.updateDevices(
      ids.map((deviceId) => ({ deviceId, status: 'disabled' })),
      true,
    );
    expect(updated.isSuccessful).toBe(true);
    expect((await hub.registry.get(ids[0]!)).responseBody.status).toBe('disabled');
    await hub.registry.removeDevices(
      ids.map((deviceId) => ({ deviceId })),
      true,
    );
    for (const deviceId of ids)
      await expectSdkError(hub.registry.get(deviceId), 'DeviceNotFoundError');
  });

  it('when one item of a bulk create fails, then the others are created and the failure is reported per device', async () => {
    const existing = uniqueId('exists');
    await hub.registry.create({ deviceId: existing });
    const fresh = uniqueId('fresh');
    const error = await expectSdkError(
      hub.registry.addDevices([
        { deviceId: fresh },
        { deviceId: existing },
        { deviceId: 'bad/id' },
      ]),
      'ArgumentError',
    );
    const result = JSON.parse(error.responseBody!) as {
      isSuccessful: boolean;
      errors: { deviceId: string; errorCode: string }[];
    };
    expect(result.isSuccessful).toBe(false);
    expect(result.errors.map((e) => [e.deviceId, e.errorCode])).toEqual([
      [existing, 'DeviceAlreadyExists'],
      ['bad/id', 'ArgumentInvalid'],
    ]);
    expect((await hub.registry.get(fresh)).responseBody.deviceId).toBe(fresh);
  });

  it('when a bulk update carries a stale etag, then only that device is refused', async () => {
    const [a, b] = [uniqueId('etag'), uniqueId('etag')];
    await hub.registry.addDevices([{ deviceId: a }, { deviceId: b }]);
    const { responseBody: deviceA } = await hub.registry.get(a);
    const { responseBody: deviceB } = await hub.registry.get(b);
    await hub.registry.update({ ...deviceB, statusReason: 'moved' });
    const error = await expectSdkError(
      hub.registry.updateDevices(
        [
          { ...deviceA, statusReason: 'x' },
          { ...deviceB, statusReason: 'y' },
        ],
        false,
      ),
      'ArgumentError',
    );
    expect(JSON.parse(error.responseBody!).errors).toEqual([
      expect.objectContaining({ deviceId: b, errorCode: 'PreconditionFailed' }),
    ]);
    expect((await hub.registry.get(a)).responseBody.statusReason).toBe('x');
    expect((await hub.registry.get(b)).responseBody.statusReason).toBe('moved');
  });

  it('when a bulk request is empty or has more than 100 items, then nothing is applied', async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => ({
      id: `many-${i}`,
      importMode: 'create',
    }));
    for (const body of [[], tooMany, { id: 'x' }]) {
      const response = await hub.raw.send('POST', '/devices?api-version=2021-04-12', {
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
    }
    await expectSdkError(hub.registry.get('many-0'), 'DeviceNotFoundError');
  });
});
