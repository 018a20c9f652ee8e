import { afterAll, beforeAll } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { startBff, type RunningBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { tempAuditFile, useStack, type Harness } from './harness.ts';
import { startPostgres, type PostgresServer } from './postgres-server.ts';

/**
 * Two BFF replicas on one PostgreSQL (started for the file): the harness's stack is replica
 * A; replica B is a second BFF on the same hub and database, budgeting as `tier`.
 */
export function useTwoReplicas(tier = 'unlimited'): {
  stack: Harness;
  replicaB: () => RunningBff;
  /** The PostgreSQL server, for a test that takes it down. */
  database: () => PostgresServer;
} {
  let server: PostgresServer | undefined;
  let databaseUrl = '';
  let replicaB: RunningBff | undefined;
  beforeAll(async () => {
    server = await startPostgres();
    databaseUrl = server.url;
  }, 60_000);
  const stack = useStack({
    env: () => ({ TWINSCOPE_DATABASE_URL: databaseUrl, TWINSCOPE_HUB_TIER: tier }),
  });
  beforeAll(async () => {
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_STRING: stack.emulator.serviceConnectionString,
      TWINSCOPE_PORT: '0',
      TWINSCOPE_HUB_TIER: tier,
      TWINSCOPE_AUDIT_FILE: tempAuditFile(),
      TWINSCOPE_DATABASE_URL: databaseUrl,
    });
    config.hub.ca = stack.emulator.tls.caCert;
    replicaB = await startBff(
      config,
      createLogger('error', () => undefined),
    );
  });
  afterAll(async () => {
    await replicaB?.close();
    await server?.stop();
  });
  return { stack, replicaB: () => replicaB!, database: () => server! };
}
