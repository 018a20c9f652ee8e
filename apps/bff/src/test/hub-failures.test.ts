import { freshDatabaseDir } from './embedded-database.ts';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '@twinscope/hub-emulator';
import { parseConfig } from '../config/index.ts';
import { startBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { createIotHubAdapter } from '../adapters/iothub/index.ts';
import { send, tempAuditFile } from './harness.ts';

async function stackWith(throttle?: {
  identity: number;
  query: number;
  twinRead: number;
  twinUpdate: number;
}) {
  const emulator = await startEmulator({
    inMemory: true,
    httpsPort: 0,
    mqttPort: 0,
    seed: 'demo',
    ...(throttle ? { throttle } : {}),
  });
  const lines: string[] = [];
  const config = parseConfig({
    TWINSCOPE_HUB_CONNECTION_STRING: emulator.serviceConnectionString,
    TWINSCOPE_PORT: '0',
    // The in-process emulator runs without --throttle: no quota.
    TWINSCOPE_HUB_TIER: 'unlimited',
    TWINSCOPE_AUDIT_FILE: tempAuditFile(),
    TWINSCOPE_DATABASE_DIR: freshDatabaseDir(),
  });
  config.hub.ca = emulator.tls.caCert;
  const bff = await startBff(
    config,
    createLogger('debug', (line) => lines.push(line)),
  );
  return { emulator, bff, lines };
}

describe('BFF: when the hub is down, throttling or refusing', () => {
  it('when the hub is unreachable, then 503 hub_unreachable with a plain message and no secret in the logs', async () => {
    const { emulator, bff, lines } = await stackWith();
    try {
      await emulator.close();
      const response = await send(`${bff.url}/api/devices/berlin-b1-meter-03`);
      const body = JSON.parse(response.text);
      expect(response.status).toBe(503);
      expect(body).toMatchObject({ code: 'hub_unreachable' });
      expect(body.message).toMatch(/cannot be reached/);
      const everything = JSON.stringify(body) + lines.join('\n');
      expect(everything).not.toContain(emulator.policies[0]!.primaryKey);
      expect(everything).not.toMatch(/SharedAccessKey=[^[]|sig=[A-Za-z0-9%]{10}/);
    } finally {
      await bff.close();
    }
  });

  it('when the hub answers 429, then the BFF waits out Retry-After and the operator still gets the twin', async () => {
    const { emulator, bff, lines } = await stackWith({
      identity: 100,
      query: 100,
      twinRead: 1,
      twinUpdate: 50,
    });
    try {
      const started = Date.now();
      const responses = await Promise.all(
        [1, 2].map(() => send(`${bff.url}/api/devices/berlin-b1-meter-03`)),
      );
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(lines.some((l) => l.includes('hub throttled; retrying'))).toBe(true);
    } finally {
      await bff.close();
      await emulator.close();
    }
  });

  it('when throttling outlasts the retry budget, then 429 throttled with retryAfterSeconds', async () => {
    const emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      throttle: { identity: 100, query: 1 / 60, twinRead: 100, twinUpdate: 50 },
    });
    try {
      const hub = createIotHubAdapter({
        connectionString: emulator.serviceConnectionString,
        ca: emulator.tls.caCert,
        logger: createLogger('error', () => {}),
        maxThrottleWaitMs: 2000,
      });
      await hub.query('SELECT * FROM devices', {});
      await expect(hub.query('SELECT * FROM devices', {})).rejects.toMatchObject({
        code: 'throttled',
        status: 429,
      });
    } finally {
      await emulator.close();
    }
  });

  it('when the hub key is wrong, then 502 hub_error that says the BFF credentials were refused', async () => {
    const emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0 });
    const badKey = Buffer.alloc(32, 9).toString('base64');
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_STRING: emulator.serviceConnectionString.replace(
        /SharedAccessKey=[^;]+/,
        `SharedAccessKey=${badKey}`,
      ),
      TWINSCOPE_PORT: '0',
      // The in-process emulator runs without --throttle: no quota.
      TWINSCOPE_HUB_TIER: 'unlimited',
      TWINSCOPE_AUDIT_FILE: tempAuditFile(),
      TWINSCOPE_DATABASE_DIR: freshDatabaseDir(),
    });
    config.hub.ca = emulator.tls.caCert;
    const bff = await startBff(
      config,
      createLogger('error', () => {}),
    );
    try {
      const response = await send(`${bff.url}/api/devices`);
      expect(response.status).toBe(502);
      const body = JSON.parse(response.text);
      expect(body.message).toMatch(/credentials/);
      expect(JSON.stringify(body)).not.toContain(badKey);
    } finally {
      await bff.close();
      await emulator.close();
    }
  });
});
