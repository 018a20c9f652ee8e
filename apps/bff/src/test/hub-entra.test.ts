import { describe, expect, it } from 'vitest';
import { createTestTokenIssuer } from '@twinscope/hub-emulator';
import { useStack } from './harness.ts';

const BFF_IDENTITY = '44444444-4444-4444-8444-444444444444';
const issuer = createTestTokenIssuer({ [BFF_IDENTITY]: ['IoT Hub Twin Contributor'] });
const credential = issuer.credential(BFF_IDENTITY);

describe('BFF on a hub with Entra access only (host name + TokenCredential, no shared key)', () => {
  const stack = useStack({ emulator: { entra: issuer.access }, hubCredential: credential });

  it('when the BFF holds IoT Hub Twin Contributor, then browsing and twin edits work and identity changes are refused clearly', async () => {
    const list = await stack.api('/api/devices');
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    const { twin } = (await stack.api('/api/devices/berlin-b1-meter-03')).body;
    const patch = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
      method: 'PATCH',
      json: { etag: twin.etag, tags: { viaEntra: true } },
    });
    expect(patch.status).toBe(200);
    expect((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody.tags.viaEntra).toBe(
      true,
    );

    const create = await stack.api('/api/devices/berlin-b1-meter-03/modules', {
      method: 'POST',
      json: { moduleId: 'needs-registry-role' },
    });
    expect(create.status).toBe(502);
    expect(create.body.message).toMatch(/refused Twinscope's credentials/);
    expect(credential.scopes).toContain('https://iothubs.azure.net/.default');
    // The refusal is logged for the operator, and no bearer token shows up in a log line.
    const log = stack.logLines.join('\n');
    expect(log).toMatch(/UnauthorizedError: The entra:\S+ credential lacks RegistryWrite/);
    expect(log).not.toContain('Bearer');
    expect(log).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+/);
  });
});
