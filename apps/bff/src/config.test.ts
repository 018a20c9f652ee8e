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
      poll: { intervalMs: 5000, queriesPerMinute: 10 },
    });
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
