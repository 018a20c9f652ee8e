import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { send, useStack } from './harness.ts';

/** A built console stand-in: an index page and one asset. */
function staticDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'twinscope-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Twinscope</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  return dir;
}

describe('local mode: what a hostile web page can do from the browser of the operator', () => {
  const stack = useStack({ env: () => ({ TWINSCOPE_STATIC_DIR: staticDir() }) });
  const hostOf = () => new URL(stack.bff.url).host;

  it('when a page rebinds its DNS name to 127.0.0.1, then every request it makes is answered 421', async () => {
    for (const [method, path] of [
      ['GET', '/api/me'],
      ['GET', '/'],
      ['GET', '/devices/x'],
      ['POST', '/api/devices/berlin-b1-gateway-01/modules/controller/connection-string'],
    ] as const) {
      const response = await send(`${stack.bff.url}${path}`, {
        method,
        headers: { Host: `evil.example:${new URL(stack.bff.url).port}` },
      });
      expect(response.status, `${method} ${path}`).toBe(421);
      expect(response.text).not.toContain('csrfToken');
      expect(response.text).not.toContain('SharedAccessKey');
    }
    // The operator's own browser, by any loopback name, is served.
    for (const name of ['127.0.0.1', 'localhost', '[::1]']) {
      const host = `${name}:${new URL(stack.bff.url).port}`;
      const response = await send(`${stack.bff.url}/api/me`, { headers: { Host: host } });
      expect(response.status, host).toBe(200);
    }
  });

  it('when a change comes with a foreign Origin or Sec-Fetch-Site: cross-site, then 403 and nothing changes', async () => {
    const before = (await stack.registry.getTwin('berlin-b1-meter-03')).responseBody;
    const patch = { etag: before.etag, tags: { hijacked: true } };
    const foreign: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { Origin: 'null' },
      { Origin: `http://${hostOf()}.evil.example` },
      { 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const response = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
        method: 'PATCH',
        json: patch,
        headers,
      });
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.body.message).toMatch(/another site/);
    }
    expect((await stack.registry.getTwin('berlin-b1-meter-03')).responseBody.etag).toBe(
      before.etag,
    );
    // The console itself (same origin), and a client sending neither header, are served.
    const own = await stack.api('/api/devices/berlin-b1-meter-03/twin', {
      method: 'PATCH',
      json: { etag: before.etag, tags: { checkedBy: 'same-origin' } },
      headers: { Origin: `http://${hostOf()}`, 'Sec-Fetch-Site': 'same-origin' },
    });
    expect(own.status).toBe(200);
  });

  it('when an address is malformed or names no file, then 400/404 without an error in the log', async () => {
    const errorsBefore = stack.logLines.filter((line) => line.includes('"error"')).length;
    for (const [path, status] of [
      ['/api/devices/%ZZ', 400],
      ['/api/devices/%E0%A4%A/modules', 400],
      ['/assets/nope.js', 404],
      ['/assets/', 404],
      ['/assets/..%2Findex.html', 404],
    ] as const) {
      const response = await send(`${stack.bff.url}${path}`);
      expect(response.status, path).toBe(status);
      expect(JSON.parse(response.text).requestId).toBeTruthy();
    }
    expect((await send(`${stack.bff.url}/assets/app.js`)).status).toBe(200);
    expect(stack.logLines.filter((line) => line.includes('"error"')).length).toBe(errorsBefore);
  });

  it('when ids are only dots, then the BFF refuses them and never sends a dot-segment to the hub', async () => {
    const device = (await stack.registry.get('berlin-b1-gateway-01')).responseBody;
    const csrfToken = JSON.parse((await send(`${stack.bff.url}/api/me`)).text).csrfToken;
    for (const [method, path] of [
      ['DELETE', '/api/devices/berlin-b1-gateway-01/modules/%2E%2E?etag=*'],
      ['DELETE', '/api/devices/berlin-b1-gateway-01/modules/..?etag=*'],
      ['POST', '/api/devices/berlin-b1-gateway-01/modules/%2E/connection-string'],
      ['GET', '/api/devices/%2E%2E'],
      ['PATCH', '/api/devices/%2E%2E/twin'],
    ] as const) {
      const body = method === 'PATCH' ? JSON.stringify({ etag: '*', tags: { a: 1 } }) : undefined;
      const response = await send(stack.bff.url, {
        method,
        rawPath: path,
        headers: {
          'X-CSRF-Token': csrfToken,
          ...(body ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body ? { body } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(400);
      expect(JSON.parse(response.text).code).toBe('validation_failed');
    }
    expect((await stack.registry.get('berlin-b1-gateway-01')).responseBody.etag).toBe(device.etag);
  });

  it('when anyone asks /api/health, then it answers liveness and nothing about the hub or streams', async () => {
    const response = await send(`${stack.bff.url}/api/health`);
    expect(JSON.parse(response.text)).toEqual({ status: 'ok' });
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });
});

describe('sign-in mode behind https', () => {
  const stack = useStack({
    signIn: true,
    env: { TWINSCOPE_PUBLIC_URL: 'https://twinscope.example.com' },
  });

  it('when the public URL is https, then every answer carries HSTS and the frame rules agree', async () => {
    for (const path of ['/api/health', '/auth/login']) {
      const response = await send(`${stack.bff.url}${path}`);
      expect(response.headers.get('strict-transport-security'), path).toMatch(/max-age=31536000/);
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
    }
  });
});

describe('sign-in mode: a signed-in user on a hostile page', () => {
  const stack = useStack({ signIn: true });

  it('when a signed-in user is lured to a change from another site, then 403 even with the cookie', async () => {
    const { browser, csrfToken } = await stack.signedIn('operator');
    const before = (await stack.registry.getTwin('berlin-b1-meter-03')).responseBody;
    const response = await browser.request(`${stack.bff.url}/api/devices/berlin-b1-meter-03/twin`, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/json',
        'X-CSRF-Token': csrfToken,
        Origin: 'https://evil.example',
      },
      body: JSON.stringify({ etag: before.etag, tags: { lured: true } }),
    });
    expect(response.status).toBe(403);
    const logout = await browser.request(`${stack.bff.url}/auth/logout`, {
      method: 'POST',
      headers: { 'X-CSRF-Token': csrfToken, 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(logout.status).toBe(403);
    const fromItself = await browser.request(
      `${stack.bff.url}/api/devices/berlin-b1-meter-03/twin`,
      {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/json',
          'X-CSRF-Token': csrfToken,
          Origin: new URL(stack.bff.url).origin,
        },
        body: JSON.stringify({ etag: before.etag, tags: { fromItself: true } }),
      },
    );
    expect(fromItself.status).toBe(200);
  });
});
