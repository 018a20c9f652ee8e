import { describe, expect, it } from 'vitest';
import iothub from 'azure-iothub';
import { registryForCredential } from '@twinscope/hub-connection';
import { createTestTokenIssuer } from '../auth/test-issuer.ts';
import { startEmulator, type RunningEmulator } from '../emulator.ts';
import { afterAll, beforeAll } from 'vitest';

const READER = '11111111-1111-4111-8111-111111111111';
const TWINS = '22222222-2222-4222-8222-222222222222';
const NOBODY = '33333333-3333-4333-8333-333333333333';

async function sdkError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).constructor.name;
  }
  throw new Error('expected the hub to refuse');
}

describe('Emulator: Microsoft Entra ID access (Registry.fromTokenCredential), no shared keys', () => {
  const issuer = createTestTokenIssuer({
    [READER]: ['IoT Hub Data Reader'],
    [TWINS]: ['IoT Hub Twin Contributor'],
  });
  let hub: RunningEmulator;
  const registryAs = (credential: ReturnType<typeof issuer.credential>) =>
    registryForCredential(`${hub.hostName}:${hub.httpsPort}`, credential, { ca: hub.tls.caCert });

  beforeAll(async () => {
    hub = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      seed: 'demo',
      entra: issuer.access,
    });
  });
  afterAll(() => hub.close());

  it('when a reader principal calls, then reads work and writes are refused; the SDK asks for the IoT Hub scope', async () => {
    const credential = issuer.credential(READER);
    const registry: iothub.Registry = registryAs(credential);
    const twin = (await registry.getTwin('berlin-b1-meter-03')).responseBody;
    expect(twin.deviceId).toBe('berlin-b1-meter-03');
    expect(credential.scopes).toContain('https://iothubs.azure.net/.default');
    expect(
      await sdkError(registry.updateTwin('berlin-b1-meter-03', { tags: { x: 1 } }, twin.etag)),
    ).toBe('UnauthorizedError');
  });

  it('when a Twin Contributor writes a twin it works, but creating a module needs a registry role', async () => {
    const registry = registryAs(issuer.credential(TWINS));
    const twin = (await registry.getTwin('berlin-b1-meter-03')).responseBody;
    const updated = await registry.updateTwin(
      'berlin-b1-meter-03',
      { tags: { entra: true } },
      twin.etag,
    );
    expect(updated.responseBody.tags.entra).toBe(true);
    expect(
      await sdkError(
        registry.addModule({ deviceId: 'berlin-b1-meter-03', moduleId: 'nope' } as never),
      ),
    ).toBe('UnauthorizedError');
  });

  it('when the token is forged, expired, for another audience, or its principal has no role, then the hub answers 401', async () => {
    const cases = [
      issuer.credential(NOBODY),
      issuer.credential(READER, { exp: Math.floor(Date.now() / 1000) - 60 }),
      issuer.credential(READER, { aud: 'https://management.azure.com' }),
      issuer.credential(READER, { iss: 'https://sts.windows.net/someone-else/' }),
      createTestTokenIssuer({ [READER]: ['IoT Hub Data Reader'] }).credential(READER),
    ];
    for (const credential of cases) {
      expect(await sdkError(registryAs(credential).getTwin('berlin-b1-meter-03'))).toBe(
        'UnauthorizedError',
      );
    }
  });
});
