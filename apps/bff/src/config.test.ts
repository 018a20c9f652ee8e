import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

const cs =
  'HostName=localhost:8443;SharedAccessKeyName=iothubowner;SharedAccessKey=' +
  Buffer.alloc(32).toString('base64');

describe('BFF configuration', () => {
  it('when values are good, then they are parsed once with defaults', () => {
    const config = parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      auth: { mode: 'local', role: 'Admin' },
      // A real hub is one S1 unit unless told: 20 queries a minute, a quarter for polling.
      poll: { intervalMs: 5000, queriesPerMinute: 5 },
    });
    expect(config.hub.quota).toMatchObject({ tier: 'S1', units: 1 });
    expect(config.hub.timeoutMs).toBe(15_000);
  });

  it('when a tier is set, or the emulator says it has no quota, then budgets follow it', () => {
    const s2 = parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs, TWINSCOPE_HUB_TIER: 'S2x4' });
    expect(s2.hub.quota).toMatchObject({ tier: 'S2', units: 4 });
    expect(s2.poll.queriesPerMinute).toBe(20);
    // Polling never takes more than half of the hub's queries, whatever it is told.
    expect(
      parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: cs,
        TWINSCOPE_HUB_TIER: 'S1',
        TWINSCOPE_POLL_QUERIES_PER_MINUTE: '6000',
      }).poll.queriesPerMinute,
    ).toBe(10);
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const file = join(dir, 'connection.json');
    writeFileSync(file, JSON.stringify({ serviceConnectionString: cs, throttle: null }));
    const emulator = parseConfig({ TWINSCOPE_HUB_CONNECTION_FILE: file });
    expect(emulator.hub.quota).toBeUndefined();
    expect(emulator.poll.queriesPerMinute).toBe(120);
    writeFileSync(file, JSON.stringify({ serviceConnectionString: cs, throttle: 'S1' }));
    expect(parseConfig({ TWINSCOPE_HUB_CONNECTION_FILE: file }).hub.quota?.tier).toBe('S1');
    expect(() =>
      parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs, TWINSCOPE_HUB_TIER: 'S9' }),
    ).toThrow(/TWINSCOPE_HUB_TIER: "S9" is not a hub tier/);
  });

  it('when several values are wrong, then every problem is listed, and secrets are not echoed', () => {
    let message = '';
    try {
      parseConfig({ TWINSCOPE_PORT: 'eighty', TWINSCOPE_HOST: '0.0.0.0' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('TWINSCOPE_PORT');
    expect(message).toContain('TWINSCOPE_HUB_CONNECTION_STRING');
    expect(message).toContain('only listens on loopback');
    expect(() => parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: 'HostName=x' })).toThrow(
      /SharedAccessKey/,
    );
  });

  it('when sign-in is on behind https, then cookies are Secure, Entra is the default authority, and missing settings are named', () => {
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_STRING: cs,
      TWINSCOPE_AUTH_MODE: 'entra',
      TWINSCOPE_HOST: '0.0.0.0',
      TWINSCOPE_PUBLIC_URL: 'https://twinscope.example.com/',
      TWINSCOPE_ENTRA_TENANT_ID: 'contoso-tenant',
      TWINSCOPE_ENTRA_CLIENT_ID: 'app',
      TWINSCOPE_ENTRA_CLIENT_SECRET: 's3cret-value',
      TWINSCOPE_SESSION_SECRET: 'x'.repeat(40),
      TWINSCOPE_TRUST_PROXY: '1',
    });
    expect(config.trustProxy).toBe(1);
    expect(config.auth).toMatchObject({
      mode: 'entra',
      signIn: {
        authority: 'https://login.microsoftonline.com/contoso-tenant/',
        protocol: 'aad',
        redirectUri: 'https://twinscope.example.com/auth/callback',
        postLogoutRedirectUri: 'https://twinscope.example.com/',
      },
      session: { secure: true, idleMs: 3_600_000, absoluteMs: 12 * 3_600_000 },
    });

    let message = '';
    try {
      parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: cs,
        TWINSCOPE_AUTH_MODE: 'entra',
        TWINSCOPE_SESSION_SECRET: 'short',
        TWINSCOPE_ROLE_MAP: 'Twinscope.Admin=Root',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'TWINSCOPE_ENTRA_CLIENT_ID',
      'TWINSCOPE_ENTRA_TENANT_ID',
      'TWINSCOPE_ENTRA_CLIENT_SECRET',
      'TWINSCOPE_SESSION_SECRET',
      'TWINSCOPE_ROLE_MAP',
    ])
      expect(message).toContain(name);
    expect(message).not.toContain('short');
  });
});
