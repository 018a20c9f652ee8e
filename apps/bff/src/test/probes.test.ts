import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { startBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { freshDatabaseDir } from './embedded-database.ts';
import { send, tempAuditFile, useStack } from './harness.ts';

describe("BFF probes: what a platform's load balancer asks", () => {
  const stack = useStack();
  const probe = async (path: string) => {
    const answer = await send(`${stack.bff.url}${path}`);
    return { status: answer.status, body: JSON.parse(answer.text) };
  };

  it(
    'when everything answers, then it is alive and ready; without its event endpoint it is still ready, polling',
    { timeout: 40_000 },
    async () => {
      // (A hub that stops answering: hung-hub.test.ts.)
      expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await probe('/readyz')).toEqual({
        status: 200,
        body: {
          ready: true,
          checks: { database: { ready: true }, hub: { ready: true }, changes: { ready: true } },
        },
      });
      await stack.emulator.events.stopEndpoint();
      try {
        await expect.poll(() => stack.bff.live.feed().source, { timeout: 20_000 }).toBe('polling');
        expect(await probe('/readyz')).toMatchObject({
          status: 200,
          body: { checks: { changes: { ready: true } } },
        });
      } finally {
        await stack.emulator.events.startEndpoint();
      }
    },
  );

  it('when its port is taken, then a second BFF refuses to start and gives its database back', async () => {
    const configOn = (port: number, databaseDir: string) => {
      const config = parseConfig({
        TWINSCOPE_HUB_CONNECTION_STRING: stack.emulator.serviceConnectionString,
        TWINSCOPE_PORT: String(port),
        TWINSCOPE_HUB_TIER: 'unlimited',
        TWINSCOPE_AUDIT_FILE: tempAuditFile(),
        TWINSCOPE_DATABASE_DIR: databaseDir,
      });
      config.hub.ca = stack.emulator.tls.caCert;
      return config;
    };
    const databaseDir = freshDatabaseDir();
    const logger = createLogger('error', () => undefined);
    await expect(startBff(configOn(stack.bff.port, databaseDir), logger)).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    // The embedded database was closed on the way out: its server stopped (no postmaster.pid
    // left; PGlite, where no server can run, has none), and the same directory opens again.
    const cluster = join(databaseDir, 'postgresql');
    if (existsSync(cluster)) expect(existsSync(join(cluster, 'postmaster.pid'))).toBe(false);
    else expect(existsSync(join(databaseDir, 'PG_VERSION'))).toBe(true);
    const second = await startBff(configOn(0, databaseDir), logger);
    try {
      expect((await send(`${second.url}/healthz`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
