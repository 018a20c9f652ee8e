import { freshDatabaseDir, reachablePlace } from './embedded-database.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor, type HubTokenCredential } from '@twinscope/hub-connection';
import { parseConfig } from '../config/index.ts';
import { startBff, type RunningBff } from '../compose.ts';
import { createLogger } from '../log.ts';
import { startDevIdp, type RunningDevIdp } from '@twinscope/dev-idp';
import { TestBrowser, type BrowserResponse } from './browser.ts';

export interface Harness {
  emulator: RunningEmulator;
  bff: RunningBff;
  /** The unmodified SDK, straight to the hub, to check what the hub really holds. */
  registry: ReturnType<typeof registryFor>;
  logLines: string[];
  /** The local OpenID Connect provider standing in for Entra (with `signIn`). */
  idp: RunningDevIdp;
  /**
   * Signs a demo user in through the provider like a browser; stops before the BFF's
   * callback so a test can tamper with it, unless `complete`.
   */
  signIn(
    user: string,
    options?: { returnTo?: string; browser?: TestBrowser },
  ): Promise<{
    browser: TestBrowser;
    callbackUrl: string;
    callback: () => Promise<BrowserResponse>;
  }>;
  /** Signs in and answers the browser plus the session's CSRF token. */
  signedIn(user: string): Promise<{ browser: TestBrowser; csrfToken: string; me: any }>;
  /** Calls the BFF like the console does (JSON, CSRF token), unless told `withoutCsrf`. */
  api(
    path: string,
    init?: RequestInit & { json?: unknown; withoutCsrf?: boolean },
  ): Promise<{ status: number; body: any; headers: Headers; text: string }>;
}

/**
 * A stack as `npm start` runs it for storage: the emulator on a data dir with Azurite beside
 * it, and the BFF configured from its connection.json (its `storage`, its CA, its DPS).
 */
export function useStackWithStorage(prefix: string): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  // Registered first, so it runs after the stack has stopped.
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const stack: Harness = useStack({
    emulator: { inMemory: false, dataDir, storage: 'azurite' },
    env: () => ({
      TWINSCOPE_HUB_CONNECTION_FILE: stack.emulator.connectionFile!,
      TWINSCOPE_LIVE_SOURCE: 'polling',
    }),
  });
  return stack;
}

/** An in-process emulator and a BFF talking to it through azure-iothub, per test file. */
export function useStack(
  options: {
    emulator?: EmulatorOptions;
    /** Extra BFF settings; a function is called once the hooks before this one have run. */
    env?: Record<string, string> | (() => Record<string, string>);
    /** Sign-in against the dev provider; with a PEM (cert + key), by certificate credentials. */
    signIn?: boolean | { certificateAndKeyPem: string };
    /** Reach the hub by host name with this Entra credential instead of a shared key. */
    hubCredential?: HubTokenCredential;
    /** Reach the emulator's DPS by host name with this Entra credential (else its policy key). */
    provisioningCredential?: HubTokenCredential;
  } = {},
): Harness {
  const harness = { logLines: [] as string[] } as unknown as Harness;
  beforeAll(async () => {
    harness.emulator = await startEmulator({
      inMemory: true,
      httpsPort: 0,
      mqttPort: 0,
      seed: 'demo',
      ...options.emulator,
    });
    // The provider must know the BFF's port before the BFF listens on it; another test file
    // can take that port in between, and then all of it is tried again on another.
    for (let attempt = 1; ; attempt++) {
      try {
        let signInEnv: Record<string, string> = {};
        if (options.signIn) {
          const port = await freePort();
          const base = `http://127.0.0.1:${port}`;
          const certificate =
            typeof options.signIn === 'object' ? options.signIn.certificateAndKeyPem : undefined;
          harness.idp = await startDevIdp({
            redirectUris: [`${base}/auth/callback`],
            postLogoutRedirectUris: [`${base}/`],
            ...(certificate
              ? { certificateClient: { clientId: 'twinscope-cert', certificatePem: certificate } }
              : {}),
          });
          const caFile = writeTemp('ca.pem', harness.idp.caCert);
          signInEnv = {
            TWINSCOPE_PORT: String(port),
            TWINSCOPE_AUTH_MODE: 'entra',
            TWINSCOPE_ENTRA_AUTHORITY: harness.idp.authority,
            TWINSCOPE_ENTRA_PROTOCOL: 'oidc',
            TWINSCOPE_ENTRA_KNOWN_AUTHORITIES: harness.idp.hostPort,
            ...(certificate
              ? {
                  TWINSCOPE_ENTRA_CLIENT_ID: 'twinscope-cert',
                  TWINSCOPE_ENTRA_CLIENT_CERT_FILE: writeTemp('client.pem', certificate),
                }
              : {
                  TWINSCOPE_ENTRA_CLIENT_ID: harness.idp.clientId,
                  TWINSCOPE_ENTRA_CLIENT_SECRET: harness.idp.clientSecret,
                }),
            TWINSCOPE_ENTRA_CA_FILE: caFile,
            TWINSCOPE_SESSION_SECRET: 'test-session-secret-that-is-long-enough-0123456789',
          };
          harness.signIn = async (
            user,
            { returnTo = '/devices', browser = new TestBrowser(harness.idp.caCert) } = {},
          ) => {
            const login = await browser.navigate(
              `${base}/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
            );
            const uid = /action="\/interaction\/([^"]+)"/.exec(login.text)?.[1];
            if (!uid)
              throw new Error(`no sign-in page: ${login.status} ${login.text.slice(0, 200)}`);
            const back = await browser.navigate(`${harness.idp.authority}interaction/${uid}`, {
              form: { login: user },
              stopAt: (url) => url.startsWith(`${base}/auth/callback`),
            });
            if (!back.url.startsWith(`${base}/auth/callback`))
              throw new Error(
                `the provider did not send the browser back: ${back.status} ${back.text.slice(0, 200)}`,
              );
            return { browser, callbackUrl: back.url, callback: () => browser.request(back.url) };
          };
          harness.signedIn = async (user) => {
            const { browser, callback } = await harness.signIn(user);
            const done = await callback();
            if (done.status !== 303)
              throw new Error(`callback answered ${done.status}: ${done.text}`);
            const me = await browser.request(`${base}/api/me`);
            return { browser, csrfToken: me.json?.csrfToken, me: me.json };
          };
        }
        const config = parseConfig({
          ...(options.hubCredential
            ? {
                TWINSCOPE_HUB_HOST_NAME: `${harness.emulator.hostName}:${harness.emulator.httpsPort}`,
              }
            : { TWINSCOPE_HUB_CONNECTION_STRING: harness.emulator.serviceConnectionString }),
          TWINSCOPE_PORT: '0',
          // The in-process emulator runs without --throttle: no quota.
          TWINSCOPE_HUB_TIER: 'unlimited',
          TWINSCOPE_POLL_INTERVAL_MS: '250',
          TWINSCOPE_POLL_QUERIES_PER_MINUTE: '600',
          TWINSCOPE_LOG_LEVEL: 'debug',
          TWINSCOPE_AUDIT_FILE: tempAuditFile(),
          TWINSCOPE_DATABASE_DIR: freshDatabaseDir(),
          ...signInEnv,
          ...(typeof options.env === 'function' ? options.env() : options.env),
        });
        config.hub.ca = harness.emulator.tls.caCert;
        config.hub.deviceHost = `${harness.emulator.hostName}:${harness.emulator.mqttPort}`;
        config.hub.amqpsPort = harness.emulator.amqpsPort;
        // The emulator's provisioning service, as its connection.json gives it to `npm start`.
        const dps = harness.emulator.provisioning;
        config.provisioning ??= {
          ...(options.provisioningCredential
            ? { hostName: `${harness.emulator.hostName}:${harness.emulator.httpsPort}` }
            : { connectionString: dps.serviceConnectionString }),
          idScope: dps.idScope,
          deviceEndpoint: dps.deviceEndpoint,
          ca: harness.emulator.tls.caCert,
        };
        const logger = createLogger('debug', (line) => harness.logLines.push(line));
        harness.bff = await startBff(
          config,
          logger,
          { heartbeatMs: 500 },
          {
            ...(options.hubCredential ? { hub: options.hubCredential } : {}),
            ...(options.provisioningCredential
              ? { provisioning: options.provisioningCredential }
              : {}),
          },
        );
        break;
      } catch (error) {
        const portTaken = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
        // Only the port the harness chose for sign-in is worth another try.
        if (!portTaken || !options.signIn || attempt === 5) throw error;
        await harness.idp?.close();
      }
    }
    harness.registry = registryFor(harness.emulator.serviceConnectionString, {
      ca: harness.emulator.tls.caCert,
    });
    let csrfToken: string | undefined;
    harness.api = async (path, init = {}) => {
      const { json, withoutCsrf, ...rest } = init;
      const headers = { ...(rest.headers as Record<string, string> | undefined) };
      let body = typeof rest.body === 'string' ? rest.body : undefined;
      if (json !== undefined) {
        body = JSON.stringify(json);
        headers['Content-Type'] = 'application/json';
      }
      if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
      const method = rest.method ?? 'GET';
      if (method !== 'GET' && !('X-CSRF-Token' in headers) && !withoutCsrf) {
        // What the console does: the token from /api/me on every state-changing request.
        csrfToken ??= (
          JSON.parse((await send(`${harness.bff.url}/api/me`)).text) as { csrfToken: string }
        ).csrfToken;
        headers['X-CSRF-Token'] = csrfToken;
      }
      const response = await send(`${harness.bff.url}${path}`, {
        method: rest.method ?? 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = response.text;
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, body: parsed, headers: response.headers, text };
    };
  });
  afterAll(async () => {
    await harness.bff?.close();
    await harness.emulator?.close();
    await harness.idp?.close();
  });
  return harness;
}

/** A fresh audit trail file for a test's BFF, never the working tree's default. */
export function tempAuditFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'twinscope-audit-')), 'audit.jsonl');
}

function writeTemp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'twinscope-test-')), name);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** A port nobody listens on right now (the BFF's, which the provider must know first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PlainResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One request on a fresh connection (no pooled keep-alive socket can outlive the server
 * it belonged to between tests), failing loudly instead of hanging.
 */
export function send(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Sent as it is: a URL would resolve dot-segments (`%2E%2E`) before sending. */
    rawPath?: string;
  } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        path: init.rawPath ?? `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined)
              headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.setTimeout(10_000, () =>
      req.destroy(new Error(`no answer within 10 s: ${init.method ?? 'GET'} ${url}`)),
    );
    req.on('error', reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** A minimal EventSource over fetch, so tests can read frames and send Last-Event-ID. */
export async function openStream(
  url: string,
  lastEventId?: string,
  headers: Record<string, string> = {},
) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { ...headers, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const stream = { raw: '' };
  const waiters: (() => void)[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        stream.raw += text;
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n').filter((l) => !l.startsWith(':'));
          const field = (name: string) =>
            lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
          const data = field('data');
          if (data === undefined) continue;
          const id = field('id');
          events.push({
            ...(id ? { id } : {}),
            event: field('event') ?? 'message',
            data: JSON.parse(data),
          });
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    response,
    events,
    /** Everything received, comments and `retry:` included. */
    get raw() {
      return stream.raw;
    },
    async next(match: (e: SseEvent) => boolean, timeoutMs = 5000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching event; got ${JSON.stringify(events.map((e) => e.event))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    /** Resolves when the server ends the stream. */
    ended: ended,
    close: () => controller.abort(),
  };
}

/**
 * A live stream once the BFF's feed reads the Event Hubs endpoint (it is healthy once the
 * endpoint has answered: an empty batch within half a second), with its hello event.
 */
export async function eventHubsStream(url: string, lastEventId?: string) {
  for (let i = 0; i < 50; i++) {
    const stream = await openStream(`${url}/api/events`, lastEventId);
    const hello = await stream.next((e) => e.event === 'hello');
    if (hello.data.feed.source === 'event-hubs') return { stream, hello };
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the Event Hubs feed never became healthy');
}

/**
 * A temporary directory holding an emulator's data (a demo fleet, on free ports), for tests
 * that start the BFF as a process in the same directory; both are removed after the file.
 */
export function useEmulatorPlace(
  name: string,
  options: EmulatorOptions = {},
): { emulator: RunningEmulator; place: string } {
  const state = {} as { emulator: RunningEmulator; place: string };
  beforeAll(async () => {
    state.place = reachablePlace(`twinscope-${name}-`);
    state.emulator = await startEmulator({
      dataDir: join(state.place, 'hub'),
      httpsPort: 0,
      mqttPort: 0,
      amqpsPort: 0,
      seed: 'demo',
      ...options,
    });
  });
  afterAll(async () => {
    await state.emulator?.close();
    rmSync(state.place, { recursive: true, force: true });
  });
  return state;
}

export interface BffProcess {
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * The BFF as its own process, started the way main.ts is (environment in, JSON log lines
 * out), for what only a whole process shows: signals, exit codes, what it sends elsewhere.
 */
export async function spawnBff(env: Record<string, string>): Promise<BffProcess> {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const bff = spawn(
    process.execPath,
    [join(root, 'scripts/run-ts.mjs'), join(root, 'apps/bff/src/main.ts')],
    { env: { ...process.env, TWINSCOPE_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = new Promise<number | null>((resolve) => bff.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"Twinscope BFF is listening","url":"([^"]+)"/.exec(output);
      if (match) resolve(match[1]!);
    };
    bff.stdout.on('data', onData);
    bff.stderr.on('data', onData);
    void exited.then(() => reject(new Error(`the BFF exited:\n${output}`)));
  });
  return { url, output: () => output, exited, kill: (signal) => bff.kill(signal) };
}
