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
});
