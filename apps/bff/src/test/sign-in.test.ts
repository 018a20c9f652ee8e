import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { objectIdFor } from '@twinscope/dev-idp';
import { openStream, useStack } from './harness.ts';
import { TestBrowser } from './browser.ts';

const device = 'berlin-b1-meter-03';
const json = (csrfToken: string, body: unknown) => ({
  headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
  body: JSON.stringify(body),
});

describe('BFF sign-in with msal-node against a local OpenID Connect provider', () => {
  const stack = useStack({ signIn: true, env: { TWINSCOPE_AUTH_RATE_LIMIT: '1000' } });

  it('when someone is not signed in, then the API answers 401 and sign-in starts with PKCE, state and nonce', async () => {
    const browser = new TestBrowser(stack.idp.caCert);
    const me = await browser.request(`${stack.bff.url}/api/me`);
    expect(me.status).toBe(401);
    expect(me.json.code).toBe('unauthorized');
    const login = await browser.request(`${stack.bff.url}/auth/login?returnTo=/devices`);
    expect(login.status).toBe(303);
    const authorize = new URL(String(login.headers['location']));
    expect(authorize.origin).toBe(stack.idp.authority.replace(/\/$/, ''));
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('response_mode')).toBe('query');
    expect(authorize.searchParams.get('state')?.length).toBeGreaterThanOrEqual(32);
    expect(authorize.searchParams.get('nonce')?.length).toBeGreaterThanOrEqual(32);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
  });

  it('when each demo user signs in, then the session carries their name and role, and the session id is new', async () => {
    for (const [user, name, role] of [
      ['reader', 'Riley Reader', 'Reader'],
      ['operator', 'Oscar Operator', 'Operator'],
      ['admin', 'Ada Admin', 'Admin'],
    ] as const) {
      const { browser, callback } = await stack.signIn(user);
      const before = browser.cookies(stack.bff.url).get('twinscope.sid');
      const done = await callback();
      expect(done.status).toBe(303);
      expect(done.headers['location']).toBe('/devices');
      const after = browser.cookies(stack.bff.url).get('twinscope.sid');
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      const me = await browser.request(`${stack.bff.url}/api/me`);
      expect(me.json.user).toMatchObject({
        id: objectIdFor(user),
        name,
        username: `${user}@twinscope.test`,
        roles: [role],
      });
      expect(me.json.authMode).toBe('entra');
      expect(me.json.noAccess).toBeUndefined();
    }
  });

  it('when a callback is replayed, forged or reports an error, then nothing is signed in and a clear page says so', async () => {
    // Replay: the same callback URL a second time (code and state already used).
    const first = await stack.signIn('operator');
    expect((await first.callback()).status).toBe(303);
    const replay = await first.browser.request(first.callbackUrl);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('This sign-in link is not valid');
    expect(replay.text).not.toMatch(/at .*\.ts:\d+/);

    // Wrong state: msal compares it with the session's and refuses.
    const forged = await stack.signIn('admin');
    const url = new URL(forged.callbackUrl);
    url.searchParams.set('state', 'x'.repeat(32));
    const refused = await forged.browser.request(url.toString());
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('could not be verified');
    expect(refused.text).toContain('state_mismatch');
    expect((await forged.browser.request(`${stack.bff.url}/api/me`)).status).toBe(401);
    // …and that sign-in attempt cannot be finished afterwards either.
    expect((await forged.callback()).status).toBe(400);

    // A code issued to another sign-in, slipped in with this browser's own state: the
    // PKCE verifier in this session does not match that code's challenge.
    const mine = await stack.signIn('reader');
    const theirs = await stack.signIn('admin');
    const swapped = new URL(mine.callbackUrl);
    swapped.searchParams.set('code', new URL(theirs.callbackUrl).searchParams.get('code')!);
    const crossed = await mine.browser.request(swapped.toString());
    expect(crossed.status).toBe(400);
    expect(crossed.text).toContain('could not be verified');
    expect((await mine.browser.request(`${stack.bff.url}/api/me`)).status).toBe(401);

    // A code delivered to a browser that never started a sign-in (login CSRF).
    const victim = new TestBrowser(stack.idp.caCert);
    const other = await stack.signIn('admin');
    const planted = await victim.request(other.callbackUrl);
    expect(planted.status).toBe(400);
    expect((await victim.request(`${stack.bff.url}/api/me`)).status).toBe(401);

    // The provider reports an error.
    const denied = await stack.signIn('reader');
    const error = await denied.browser.request(
      `${stack.bff.url}/auth/callback?error=access_denied&error_description=${encodeURIComponent('<b>User cancelled</b>')}`,
    );
    expect(error.status).toBe(403);
    expect(error.text).toContain('&lt;b&gt;User cancelled&lt;/b&gt;');
  });

  it('when the token has no app role, or a groups overage, then the user is told why and the API refuses', async () => {
    const none = await stack.signedIn('norole');
    expect(none.me.user.roles).toEqual([]);
    expect(none.me.noAccess).toMatch(/no Twinscope app role/);
    const devices = await none.browser.request(`${stack.bff.url}/api/devices`);
    expect(devices.status).toBe(403);
    const overage = await stack.signedIn('overage');
    expect(overage.me.noAccess).toMatch(/groups overage/);
  });

  it('when a Reader sends a PATCH by hand it is refused; an Operator without the CSRF header is refused; with it the change lands', async () => {
    const reader = await stack.signedIn('reader');
    const { twin } = (await reader.browser.request(`${stack.bff.url}/api/devices/${device}`)).json;
    const byReader = await reader.browser.request(`${stack.bff.url}/api/devices/${device}/twin`, {
      method: 'PATCH',
      ...json(reader.csrfToken, { etag: twin.etag, tags: { signedIn: 'reader' } }),
    });
    expect(byReader.status).toBe(403);
    expect(byReader.json.message).toMatch(/needs the Operator role/);

    const operator = await stack.signedIn('operator');
    const noHeader = await operator.browser.request(`${stack.bff.url}/api/devices/${device}/twin`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ etag: twin.etag, tags: { signedIn: 'operator' } }),
    });
    expect(noHeader.status).toBe(403);
    // Another session's token is no good either.
    const foreign = await operator.browser.request(`${stack.bff.url}/api/devices/${device}/twin`, {
      method: 'PATCH',
      ...json(reader.csrfToken, { etag: twin.etag, tags: { signedIn: 'operator' } }),
    });
    expect(foreign.status).toBe(403);
    expect((await stack.registry.getTwin(device)).responseBody.etag).toBe(twin.etag);

    const ok = await operator.browser.request(`${stack.bff.url}/api/devices/${device}/twin`, {
      method: 'PATCH',
      ...json(operator.csrfToken, { etag: twin.etag, tags: { signedIn: 'operator' } }),
    });
    expect(ok.status).toBe(200);
    const history = await operator.browser.request(
      `${stack.bff.url}/api/devices/${device}/history`,
    );
    expect(history.json.entries[0]).toMatchObject({
      actor: { id: objectIdFor('operator'), name: 'Oscar Operator' },
      action: 'twin.patch',
      result: 'succeeded',
      change: { tags: { signedIn: 'operator' } },
    });
  });

  it('when a cookie is tampered with, then it is worthless', async () => {
    const { browser } = await stack.signedIn('admin');
    const cookies = browser.cookies(stack.bff.url);
    const value = cookies.get('twinscope.sid')!;
    cookies.set(
      'twinscope.sid',
      value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    );
    expect((await browser.request(`${stack.bff.url}/api/me`)).status).toBe(401);
  });

  it('when the operator signs out, then the live stream ends, the session is gone and the browser goes to the provider', async () => {
    const { browser, csrfToken } = await stack.signedIn('operator');
    const cookie = `twinscope.sid=${browser.cookies(stack.bff.url).get('twinscope.sid')}`;
    const stream = await openStream(`${stack.bff.url}/api/events`, undefined, { cookie });
    expect(stream.response.status).toBe(200);
    await stream.next((e) => e.event === 'hello');

    const withoutHeader = await browser.request(`${stack.bff.url}/auth/logout`, { method: 'POST' });
    expect(withoutHeader.status).toBe(403);
    const out = await browser.request(`${stack.bff.url}/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrfToken },
    });
    expect(out.status).toBe(200);
    const logoutUrl = new URL(out.json.logoutUrl);
    expect(logoutUrl.origin).toBe(stack.idp.authority.replace(/\/$/, ''));
    expect(logoutUrl.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.bff.url}/`);
    await stream.next((e) => e.event === 'session-ended');
    await stream.ended;
    expect((await browser.request(`${stack.bff.url}/api/me`)).status).toBe(401);
    // The old cookie, replayed, does not come back to life.
    const replayed = await fetch(`${stack.bff.url}/api/me`, { headers: { cookie } });
    expect(replayed.status).toBe(401);
    const reopened = await fetch(`${stack.bff.url}/api/events`, { headers: { cookie } });
    expect(reopened.status).toBe(401);
  });
});

describe('BFF sessions end by themselves, sign-in is rate limited, and a dead provider is explained', () => {
  const stack = useStack({
    signIn: true,
    // 3.6 s absolute lifetime, 4 sign-in requests a minute.
    env: { TWINSCOPE_SESSION_MAX_HOURS: '0.001', TWINSCOPE_AUTH_RATE_LIMIT: '6' },
  });

  it('when a session passes its lifetime, then the API answers 401 and its live stream is told and ended', async () => {
    const { browser } = await stack.signedIn('reader');
    const cookie = `twinscope.sid=${browser.cookies(stack.bff.url).get('twinscope.sid')}`;
    const stream = await openStream(`${stack.bff.url}/api/events`, undefined, { cookie });
    await stream.next((e) => e.event === 'hello');
    await stream.next((e) => e.event === 'session-ended', 8000);
    const me = await browser.request(`${stack.bff.url}/api/me`);
    expect(me.status).toBe(401);
    expect(me.json.message).toMatch(/expired|Sign in/);
  });

  it('when sign-in is hammered, then it answers 429 with a page, and a dead provider gives 503, never a stack trace', async () => {
    const browser = new TestBrowser(stack.idp.caCert);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push((await browser.request(`${stack.bff.url}/auth/login`)).status);
    expect(statuses).toContain(429);
    const limited = await browser.request(`${stack.bff.url}/auth/login`);
    expect(limited.text).toContain('Too many sign-in attempts');
  });
});

describe('BFF sign-in when the identity provider is down', () => {
  const stack = useStack({ signIn: true });

  it('when the provider cannot be reached, then sign-in answers 503 with a clear page and no session', async () => {
    await stack.idp.close();
    const browser = new TestBrowser(stack.idp.caCert);
    const login = await browser.request(`${stack.bff.url}/auth/login`);
    expect(login.status).toBe(503);
    expect(login.text).toContain('Sign-in is unavailable');
    expect(login.text).not.toMatch(/Error:|at .*\(/);
    expect((await browser.request(`${stack.bff.url}/api/me`)).status).toBe(401);
  });
});

/** A self-signed RSA certificate and its key in one PEM, as an app registration would hold. */
function clientCertificate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'client-cert-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=twinscope-test-client',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  return readFileSync(join(dir, 'cert.pem'), 'utf8') + readFileSync(join(dir, 'key.pem'), 'utf8');
}

describe('BFF sign-in with certificate credentials instead of a client secret', () => {
  const stack = useStack({ signIn: { certificateAndKeyPem: clientCertificate() } });

  it('when the app authenticates with its certificate, then the code is redeemed and the user is signed in', async () => {
    const { me } = await stack.signedIn('admin');
    expect(me.user).toMatchObject({ name: 'Ada Admin', roles: ['Admin'] });
  });
});
