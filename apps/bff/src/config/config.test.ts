import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { BFF_VARIABLES, ConfigError, parseConfig } from './index.ts';

const cs =
  'HostName=localhost:8443;SharedAccessKeyName=iothubowner;SharedAccessKey=' +
  Buffer.alloc(32).toString('base64');

/** An emulator's connection.json in a fresh directory (with its CA file), as the emulator writes it. */
function connectionFile(over: Partial<ConnectionFile> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-'));
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
  const file: ConnectionFile = {
    hostName: 'localhost',
    httpsPort: 8443,
    mqttPort: 8883,
    amqpsPort: 5671,
    serviceConnectionString: cs,
    caCertFile: join(dir, 'ca.pem'),
    throttle: 'S1',
    eventHubs: {
      connectionString: 'Endpoint=sb://localhost:5672/;EntityPath=hub;UseDevelopmentEmulator=true',
      name: 'hub',
      amqpPort: 5672,
      partitionCount: 2,
      consumerGroups: ['$Default'],
    },
    storage: null,
    provisioning: null,
    ...over,
  };
  writeFileSync(join(dir, 'connection.json'), JSON.stringify(file));
  return join(dir, 'connection.json');
}

/** The message a configuration is refused with. */
function problems(env: NodeJS.ProcessEnv): string {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('BFF configuration', () => {
  it('when values are good, then they are parsed once with defaults', () => {
    const config = parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs });
    expect(config).toMatchObject({
      server: { host: '127.0.0.1', port: 3000, allowedHosts: [], logLevel: 'info' },
      auth: { mode: 'local', role: 'Admin' },
      // A real hub is one S1 unit unless told: 20 queries a minute, a quarter for polling.
      live: {
        poll: { intervalMs: 5000, queriesPerMinute: 5 },
        streams: { perSession: 20, max: 2000 },
      },
      storage: { auditFile: 'twinscope-audit.jsonl' },
    });
    expect(config.live.events).toBeUndefined();
    expect(config.hub.quota).toMatchObject({ tier: 'S1', units: 1 });
    expect(config.hub.timeoutMs).toBe(15_000);
  });

  it('when a tier is set, or the emulator says it has no quota, then budgets follow it', () => {
    const s2 = parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs, TWINSCOPE_HUB_TIER: 'S2x4' });
    expect(s2.hub.quota).toMatchObject({ tier: 'S2', units: 4 });
    expect(s2.live.poll.queriesPerMinute).toBe(20);
    // Polling never takes more than half of the hub's queries, whatever it is told.
    expect(
      parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: cs,
        TWINSCOPE_HUB_TIER: 'S1',
        TWINSCOPE_POLL_QUERIES_PER_MINUTE: '6000',
      }).live.poll.queriesPerMinute,
    ).toBe(10);
    const emulator = parseConfig({
      TWINSCOPE_HUB_CONNECTION_FILE: connectionFile({ throttle: null }),
    });
    expect(emulator.hub.quota).toBeUndefined();
    expect(emulator.live.poll.queriesPerMinute).toBe(120);
    expect(emulator.hub.ca).toContain('BEGIN CERTIFICATE');
    expect(emulator.hub.deviceHost).toBe('localhost');
    expect(emulator.live.events?.connectionString).toContain('UseDevelopmentEmulator=true');
    const s1 = parseConfig({ TWINSCOPE_HUB_CONNECTION_FILE: connectionFile({ mqttPort: 18883 }) });
    expect(s1.hub.quota?.tier).toBe('S1');
    expect(s1.hub.deviceHost).toBe('localhost:18883');
    expect(() =>
      parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs, TWINSCOPE_HUB_TIER: 'S9' }),
    ).toThrow(/TWINSCOPE_HUB_TIER: "S9" is not a hub tier/);
  });

  it('when several values in several sections are wrong, then every problem is listed by variable, and secrets are not echoed', () => {
    const message = problems({
      TWINSCOPE_PORT: 'eighty',
      TWINSCOPE_HOST: '0.0.0.0',
      TWINSCOPE_POLL_INTERVAL_MS: '5',
      TWINSCOPE_LIVE_SOURCE: 'event-hubs',
      TWINSCOPE_AUDIT_FILE: '',
      TWINSCOPE_STREAMS_MAX: '-1',
    });
    for (const name of [
      'TWINSCOPE_PORT',
      'TWINSCOPE_HUB_CONNECTION_STRING',
      'TWINSCOPE_POLL_INTERVAL_MS',
      'TWINSCOPE_LIVE_SOURCE',
      'TWINSCOPE_STREAMS_MAX',
    ])
      expect(message).toMatch(new RegExp(`^  ${name}: `, 'm'));
    expect(message).toContain('TWINSCOPE_HOST: the local single-operator mode');
    expect(problems({ TWINSCOPE_HUB_CONNECTION_STRING: cs, TWINSCOPE_AUTH_MODE: 'saml' })).toMatch(
      /TWINSCOPE_AUTH_MODE: /,
    );
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
    expect(config.server.trustProxy).toBe(1);
    expect(config.auth).toMatchObject({
      mode: 'entra',
      signIn: {
        authority: 'https://login.microsoftonline.com/contoso-tenant/',
        protocol: 'aad',
        redirectUri: 'https://twinscope.example.com/auth/callback',
        postLogoutRedirectUri: 'https://twinscope.example.com/',
      },
    });
    expect(config.session).toMatchObject({
      secure: true,
      idleMs: 3_600_000,
      absoluteMs: 12 * 3_600_000,
    });

    const message = problems({
      TWINSCOPE_HUB_CONNECTION_STRING: cs,
      TWINSCOPE_AUTH_MODE: 'entra',
      TWINSCOPE_SESSION_SECRET: 'short',
      TWINSCOPE_ROLE_MAP: 'Twinscope.Admin=Root',
    });
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

  it('when file upload storage is given or the emulator has some, then devices’ files are read there, and a bad value is named without echoing it', () => {
    expect(parseConfig({ TWINSCOPE_HUB_CONNECTION_STRING: cs }).fileUpload).toBeUndefined();
    expect(parseConfig({ TWINSCOPE_HUB_CONNECTION_FILE: connectionFile() }).fileUpload).toBe(
      undefined,
    );
    const account =
      'DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=c2VjcmV0;EndpointSuffix=core.windows.net';
    expect(
      parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: cs,
        TWINSCOPE_STORAGE_CONNECTION_STRING: account,
      }).fileUpload,
    ).toEqual({ connectionString: account, container: 'fileupload', timeoutMs: 15_000 });
    // The emulator's Azurite serves the hub's certificate: its CA is trusted for it.
    const azurite =
      'DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=https://127.0.0.1:10000/devstoreaccount1';
    const emulator = parseConfig({
      TWINSCOPE_HUB_CONNECTION_FILE: connectionFile({
        storage: { connectionString: azurite, container: 'uploads' },
      }),
      TWINSCOPE_STORAGE_TIMEOUT_MS: '2000',
    }).fileUpload;
    expect(emulator).toMatchObject({
      connectionString: azurite,
      container: 'uploads',
      timeoutMs: 2000,
    });
    expect(emulator?.ca).toContain('BEGIN CERTIFICATE');

    const message = problems({
      TWINSCOPE_HUB_CONNECTION_STRING: cs,
      TWINSCOPE_STORAGE_CONNECTION_STRING: 'AccountName=contoso;Key=hunter2-not-a-key',
      TWINSCOPE_FILE_UPLOAD_CONTAINER: 'File_Upload',
    });
    expect(message).toMatch(
      /^ {2}TWINSCOPE_STORAGE_CONNECTION_STRING: a storage connection string/m,
    );
    expect(message).toMatch(/^ {2}TWINSCOPE_FILE_UPLOAD_CONTAINER: a container name/m);
    expect(message).not.toContain('hunter2');
  });

  it('when files are named, then they are read only after every variable parsed, and every missing one is listed', () => {
    // A bad variable is reported without touching the files (none of them exists).
    const early = problems({
      TWINSCOPE_HUB_CONNECTION_FILE: '/nonexistent/connection.json',
      TWINSCOPE_PORT: 'x',
    });
    expect(early).toContain('TWINSCOPE_PORT');
    expect(early).not.toContain('does not exist');
    const late = problems({
      TWINSCOPE_HUB_CONNECTION_STRING: cs,
      TWINSCOPE_HUB_CA_FILE: '/nonexistent/ca.pem',
      TWINSCOPE_AUTH_MODE: 'entra',
      TWINSCOPE_HOST: '0.0.0.0',
      TWINSCOPE_ENTRA_TENANT_ID: 't',
      TWINSCOPE_ENTRA_CLIENT_ID: 'app',
      TWINSCOPE_ENTRA_CLIENT_CERT_FILE: '/nonexistent/app.pem',
      TWINSCOPE_SESSION_SECRET: 'y'.repeat(40),
    });
    expect(late).toContain('TWINSCOPE_HUB_CA_FILE: /nonexistent/ca.pem does not exist');
    expect(late).toContain('TWINSCOPE_ENTRA_CLIENT_CERT_FILE: /nonexistent/app.pem does not exist');
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const garbage = join(dir, 'connection.json');
    writeFileSync(garbage, '{not json');
    expect(problems({ TWINSCOPE_HUB_CONNECTION_FILE: garbage })).toContain(
      `TWINSCOPE_HUB_CONNECTION_FILE: ${garbage} is not JSON`,
    );
    const partial = connectionFile();
    writeFileSync(partial, JSON.stringify({ serviceConnectionString: cs }));
    expect(problems({ TWINSCOPE_HUB_CONNECTION_FILE: partial })).toMatch(
      /TWINSCOPE_HUB_CONNECTION_FILE: .*connection\.json is not the emulator's connection\.json: hostName: /,
    );
  });

  it('when the README documents configuration, then it names every variable the BFF reads', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../README.md'), 'utf8');
    const missing = BFF_VARIABLES.filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
