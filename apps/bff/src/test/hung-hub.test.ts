import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabaseDir } from './embedded-database.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEmulator } from '@twinscope/hub-emulator/spawn';
import { startBff, type RunningBff } from '../compose.ts';
import { createIotHubAdapter } from '../adapters/iothub/index.ts';
import { parseConfig } from '../config/index.ts';
import { createLogger } from '../log.ts';
import { send, tempAuditFile } from './harness.ts';

const device = 'berlin-b1-gateway-01';

describe('BFF: a hub that hangs, or drops the connection mid-write', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hung-hub-'));
  let hub: ChildProcess;
  let bff: RunningBff;
  let csrf: string;
  const lines: string[] = [];

  beforeAll(async () => {
    // In its own process, so it can be stopped (SIGSTOP) like a hung hub.
    ({ child: hub } = await spawnEmulator({ dataDir, args: ['--seed', 'demo', '--verbose'] }));
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
      TWINSCOPE_PORT: '0',
      TWINSCOPE_HUB_TIMEOUT_MS: '1000',
      TWINSCOPE_LIVE_SOURCE: 'polling',
      TWINSCOPE_AUDIT_FILE: tempAuditFile(),
      TWINSCOPE_DATABASE_DIR: freshDatabaseDir(),
    });
    bff = await startBff(
      config,
      createLogger('debug', (line) => lines.push(line)),
    );
    csrf = JSON.parse((await send(`${bff.url}/api/me`)).text).csrfToken;
  });
  afterAll(async () => {
    await bff?.close();
    hub?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = async (path: string, method = 'GET', json?: unknown) => {
    const started = Date.now();
    const response = await send(`${bff.url}${path}`, {
      method,
      headers: {
        'X-CSRF-Token': csrf,
        ...(json ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(json ? { body: JSON.stringify(json) } : {}),
    });
    return {
      status: response.status,
      body: response.text ? JSON.parse(response.text) : undefined,
      ms: Date.now() - started,
    };
  };

  it('when the browser goes away while the hub hangs, then the BFF abandons its reads before the hub sees them', async () => {
    // First in this file: no hub call has been made, so the BFF must open a connection, and
    // its TLS handshake waits on the stopped hub. Abandoned, the read never reaches the hub.
    const seen: string[] = [];
    hub.stdout!.on('data', (chunk: Buffer) => seen.push(chunk.toString()));
    hub.kill('SIGSTOP');
    const browser = new AbortController();
    const asked = fetch(`${bff.url}/api/devices/${device}`, { signal: browser.signal }).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    browser.abort();
    await asked;
    await new Promise((resolve) => setTimeout(resolve, 200));
    hub.kill('SIGCONT');
    // Well before the 1 s deadline: had the reads been kept, the hub would answer them now.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(seen.join('')).not.toContain(`/${device} `);
    expect(lines.join('\n')).not.toMatch(/"level":"error"/);
  });

  it('when the hub hangs, then reads answer 503 at the deadline, a write says its outcome is unknown, and the truth shows once it resumes', async () => {
    // One hub call, so the write below goes out on that kept-alive connection.
    expect((await api(`/api/devices/${device}/modules`)).status).toBe(200);
    hub.kill('SIGSTOP');
    try {
      const write = await api(`/api/devices/${device}/modules`, 'POST', { moduleId: 'hung-write' });
      expect(write.status).toBe(504);
      expect(write.body.code).toBe('outcome_unknown');
      expect(write.body.message).toMatch(/whether the change was applied is unknown/);
      expect(write.ms).toBeLessThan(5000);
      for (const path of [
        `/api/devices/${device}`,
        '/api/devices',
        `/api/devices/${device}/modules`,
      ]) {
        const read = await api(path);
        expect(read.status, path).toBe(503);
        expect(read.body.message).toMatch(/did not answer within 1 s; nothing was changed/);
        expect(read.ms, path).toBeLessThan(5000);
      }
      // The platform takes this replica out of rotation, and is told why; it stays alive.
      const ready = await api('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.hub).toEqual({
        ready: false,
        reason: 'The IoT hub did not answer within 1 s; nothing was changed. Try again shortly.',
      });
      expect(ready.body.checks.database).toEqual({ ready: true });
      expect((await api('/healthz')).status).toBe(200);
    } finally {
      hub.kill('SIGCONT');
    }
    expect((await api(`/api/devices/${device}`)).status).toBe(200);
    expect((await api('/readyz')).body).toMatchObject({ ready: true });
    // The request was in the hub's socket all along: it was applied after all.
    const created = await api(`/api/devices/${device}/modules/hung-write`);
    expect(created.status).toBe(200);
    const history = await api(`/api/devices/${device}/modules/hung-write/history`);
    expect(history.body.entries[0]).toMatchObject({ action: 'module.create', result: 'unknown' });
  });

  it('when nothing has asked the hub lately, then readiness asks it itself: ready while it answers, not ready with the reason while it hangs', async () => {
    // A replica that has made no call (a quiet night): its answer is not fresh, so the probe
    // reads the registry's statistics, bounded by the call deadline.
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_FILE: join(dataDir, 'connection.json'),
      TWINSCOPE_HUB_TIMEOUT_MS: '1000',
    });
    const quiet = (logger = createLogger('error', () => {})) =>
      createIotHubAdapter({
        connectionString: config.hub.connectionString!,
        ...(config.hub.ca ? { ca: config.hub.ca } : {}),
        deadlineMs: 1000,
        logger,
      });
    const answering = quiet();
    try {
      expect(await answering.answering()).toMatchObject({ ok: true });
    } finally {
      await answering.close();
    }
    const stuck = quiet();
    hub.kill('SIGSTOP');
    try {
      const started = Date.now();
      expect(await stuck.answering()).toMatchObject({
        ok: false,
        reason: 'The IoT hub did not answer within 1 s; nothing was changed. Try again shortly.',
      });
      // Bounded by the deadline, not left hanging with the hub.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      hub.kill('SIGCONT');
      await stuck.close();
    }
  });

  it('when the connection is reset while a write is in flight, then it is reported as unknown, not as unchanged', async () => {
    expect((await api(`/api/devices/${device}`)).status).toBe(200);
    hub.kill('SIGSTOP');
    const write = api(`/api/devices/${device}/modules`, 'POST', { moduleId: 'reset-write' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    hub.kill('SIGKILL');
    const answer = await write;
    expect(answer.status).toBe(504);
    expect(answer.body.code).toBe('outcome_unknown');
    expect(answer.body.message).not.toMatch(/nothing was changed/);
    // With no hub at all, reads say it cannot be reached, and that nothing changed.
    const read = await api(`/api/devices/${device}`);
    expect(read.status).toBe(503);
    expect(lines.join('\n')).not.toMatch(/SharedAccessKey=|sig=/);
  });
});
