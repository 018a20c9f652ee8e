import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freshDatabaseDir } from './embedded-database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/index.ts';
import { startBff, type RunningBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { freePort, openStream, tempAuditFile, useStack } from './harness.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedis && process.env['CI']) {
  throw new Error(
    'CI needs redis-server for the shared-session test (npm test installs it as root).',
  );
}

describe.skipIf(!hasRedis)('BFF replicas sharing sessions through Redis (connect-redis)', () => {
  let redis: ChildProcess;
  let redisUrl = '';
  let replicaB: RunningBff;
  beforeAll(async () => {
    const port = await freePort();
    redisUrl = `redis://127.0.0.1:${port}`;
    redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      redis.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('Ready to accept connections')) resolve();
      });
      redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
  });
  const stack = useStack({ signIn: true, env: () => ({ TWINSCOPE_REDIS_URL: redisUrl }) });
  beforeAll(async () => {
    // A second replica: same hub, same session secret and store, its own port.
    const env = {
      TWINSCOPE_HUB_CONNECTION_STRING: stack.emulator.serviceConnectionString,
      TWINSCOPE_PORT: '0',
      // The in-process emulator runs without --throttle: no quota.
      TWINSCOPE_HUB_TIER: 'unlimited',
      TWINSCOPE_AUTH_MODE: 'entra',
      TWINSCOPE_PUBLIC_URL: stack.bff.url,
      TWINSCOPE_ENTRA_AUTHORITY: stack.idp.authority,
      TWINSCOPE_ENTRA_PROTOCOL: 'oidc',
      TWINSCOPE_ENTRA_KNOWN_AUTHORITIES: stack.idp.hostPort,
      TWINSCOPE_ENTRA_CLIENT_ID: stack.idp.clientId,
      TWINSCOPE_ENTRA_CLIENT_SECRET: stack.idp.clientSecret,
      TWINSCOPE_SESSION_SECRET: 'test-session-secret-that-is-long-enough-0123456789',
      TWINSCOPE_REDIS_URL: redisUrl,
      TWINSCOPE_AUDIT_FILE: tempAuditFile(),
      TWINSCOPE_DATABASE_DIR: freshDatabaseDir(),
    };
    const config = parseConfig(env);
    config.hub.ca = stack.emulator.tls.caCert;
    replicaB = await startBff(
      config,
      createLogger('error', () => undefined),
      { heartbeatMs: 300 },
    );
  });
  afterAll(async () => {
    await replicaB?.close();
    redis?.kill();
  });

  it('when signed in on one replica, then the other knows the session, and signing out there ends the stream here', async () => {
    const { browser, csrfToken } = await stack.signedIn('operator');
    const cookie = `twinscope.sid=${browser.cookies(stack.bff.url).get('twinscope.sid')}`;
    const me = await fetch(`${replicaB.url}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { user: { name: string }; csrfToken: string };
    expect(body.user.name).toBe('Oscar Operator');
    expect(body.csrfToken).toBe(csrfToken);

    const stream = await openStream(`${replicaB.url}/api/events`, undefined, { cookie });
    await stream.next((e) => e.event === 'hello');
    const out = await browser.request(`${stack.bff.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(out.status).toBe(200);
    // Replica B learns it from the shared store at its next heartbeat.
    await stream.next((e) => e.event === 'session-ended', 3000);
    expect((await fetch(`${replicaB.url}/api/me`, { headers: { cookie } })).status).toBe(401);
  });
});
