import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSasToken } from '../auth/sas.ts';
import { sdkRegistry as registryFor } from './hub.ts';
import { expectSdkError } from './sdk-errors.ts';
import { policyConnectionString, uniqueId, useHub } from './hub.ts';

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('SAS authentication and policy permissions', () => {
  const hub = useHub();
  const owner = () => hub.emulator.policies.find((p) => p.keyName === 'iothubowner')!;
  const listPath = '/devices/?api-version=2021-04-12';

  it('when a policy lacks a permission, then that operation answers UnauthorizedError', async () => {
    const deviceId = uniqueId('perm');
    await hub.registry.create({ deviceId });
    const { caCert } = hub.emulator.tls;
    const reader = registryFor(policyConnectionString(hub.emulator, 'registryRead'), caCert);
    expect((await reader.get(deviceId)).responseBody.deviceId).toBe(deviceId);
    await expectSdkError(reader.create({ deviceId: uniqueId('nope') }), 'UnauthorizedError');
    await expectSdkError(reader.updateTwin(deviceId, { tags: { a: 1 } }, '*'), 'UnauthorizedError');

    const service = registryFor(policyConnectionString(hub.emulator, 'service'), caCert);
    await service.updateTwin(deviceId, { tags: { a: 1 } }, '*');
    await expectSdkError(service.get(deviceId), 'UnauthorizedError');
    await expectSdkError(service.delete(deviceId), 'UnauthorizedError');

    const device = registryFor(policyConnectionString(hub.emulator, 'device'), caCert);
    await expectSdkError(device.getTwin(deviceId), 'UnauthorizedError');

    const writer = registryFor(policyConnectionString(hub.emulator, 'registryReadWrite'), caCert);
    await writer.delete(deviceId);
  });

  it('when the secondary key signs, then it is accepted; an unknown key is not', async () => {
    const secondary = owner().secondaryKey;
    const registry = registryFor(
      policyConnectionString(hub.emulator, 'iothubowner', secondary),
      hub.emulator.tls.caCert,
    );
    await registry.list();
    const forged = registryFor(
      policyConnectionString(hub.emulator, 'iothubowner', Buffer.alloc(32, 7).toString('base64')),
      hub.emulator.tls.caCert,
    );
    await expectSdkError(forged.list(), 'UnauthorizedError');
  });

  it('when a token is tampered with, expired, malformed or missing, then 401 in IoT Hub error format', async () => {
    const good = createSasToken(
      hub.emulator.hostName,
      owner().primaryKey,
      inAnHour(),
      'iothubowner',
    );
    expect((await hub.raw.send('GET', listPath, { authorization: good })).status).toBe(200);

    const tamperedExpiry = good.replace(/se=\d+/, `se=${inAnHour() + 100}`);
    const otherHost = createSasToken(
      'otherhub.azure-devices.net',
      owner().primaryKey,
      inAnHour(),
      'iothubowner',
    );
    const expired = createSasToken(
      hub.emulator.hostName,
      owner().primaryKey,
      Math.floor(Date.now() / 1000) - 10,
      'iothubowner',
    );
    const unknownPolicy = createSasToken(
      hub.emulator.hostName,
      owner().primaryKey,
      inAnHour(),
      'admin',
    );
    const cases: [string, string | null, string][] = [
      ['tampered expiry', tamperedExpiry, 'IotHubUnauthorizedAccess'],
      ['other hub', otherHost, 'IotHubUnauthorizedAccess'],
      ['expired', expired, 'IotHubUnauthorized'],
      ['unknown policy', unknownPolicy, 'IotHubUnauthorizedAccess'],
      ['no header', null, 'IotHubUnauthorizedAccess'],
      ['bearer', 'Bearer abc', 'IotHubUnauthorizedAccess'],
      [
        'no signature',
        'SharedAccessSignature sr=localhost&se=99999999999',
        'IotHubUnauthorizedAccess',
      ],
      ['duplicate field', `${good}&sig=x`, 'IotHubUnauthorizedAccess'],
      // A second expiry under another name must not be what anything reads.
      ['unknown field', `${good}&xse=99999999999`, 'IotHubUnauthorizedAccess'],
      ['bad escape in skn', good.replace('skn=iothubowner', 'skn=%ZZ'), 'IotHubUnauthorizedAccess'],
      ['bad encoding', good.replace('sig=', 'sig=%E0%A4%A'), 'IotHubUnauthorizedAccess'],
    ];
    for (const [name, authorization, code] of cases) {
      const response = await hub.raw.send('GET', listPath, { authorization });
      expect(response.status, name).toBe(401);
      expect(response.headers['iothub-errorcode'], name).toBe(code);
      expect((response.json as { Message: string }).Message, name).toMatch(
        new RegExp(`^ErrorCode:${code};`),
      );
    }
  });

  it('when a token is signed with a device key, then it may not use the service API', async () => {
    const deviceId = uniqueId('devkey');
    const { responseBody } = await hub.registry.create({ deviceId });
    const key = responseBody.authentication!.symmetricKey!.primaryKey!;
    const token = createSasToken(`${hub.emulator.hostName}/devices/${deviceId}`, key, inAnHour());
    const response = await hub.raw.send('GET', `/twins/${deviceId}?api-version=2021-04-12`, {
      authorization: token,
    });
    expect(response.status).toBe(401);
  });

  it('when a policy token is scoped to one device, then it reaches that device and no other', async () => {
    const [mine, other] = [uniqueId('scoped'), uniqueId('scoped')];
    await hub.registry.create({ deviceId: mine });
    await hub.registry.create({ deviceId: other });
    const scoped = createSasToken(
      `${hub.emulator.hostName}/devices/${mine}`,
      owner().primaryKey,
      inAnHour(),
      'iothubowner',
    );
    expect(
      (
        await hub.raw.send('GET', `/devices/${mine}?api-version=2021-04-12`, {
          authorization: scoped,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await hub.raw.send('GET', `/devices/${other}?api-version=2021-04-12`, {
          authorization: scoped,
        })
      ).status,
    ).toBe(401);
    expect((await hub.raw.send('GET', listPath, { authorization: scoped })).status).toBe(401);
  });

  it('when the HMAC is computed over a re-encoded sr, then it is refused (the hub signs the literal sr)', async () => {
    const se = String(inAnHour());
    const sr = hub.emulator.hostName;
    const wrong = createHmac('sha256', Buffer.from(owner().primaryKey, 'base64'))
      .update(`${encodeURIComponent(`${sr}/`)}\n${se}`)
      .digest('base64');
    const token = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(wrong)}&se=${se}&skn=iothubowner`;
    expect((await hub.raw.send('GET', listPath, { authorization: token })).status).toBe(401);
  });
});
