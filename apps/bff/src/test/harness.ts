import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@twinscope/hub-emulator';
import { registryFor } from '@twinscope/hub-connection';
import { parseConfig } from '../config.ts';
import { startBff, type RunningBff } from '../compose.ts';
import { createLogger } from '../log.ts';

export interface Harness {
  emulator: RunningEmulator;
  bff: RunningBff;
  /** The unmodified SDK, straight to the hub, to check what the hub really holds. */
  registry: ReturnType<typeof registryFor>;
  logLines: string[];
  /** Calls the BFF like the console does (JSON, CSRF token), unless told `withoutCsrf`. */
  api(
    path: string,
    init?: RequestInit & { json?: unknown; withoutCsrf?: boolean },
  ): Promise<{ status: number; body: any; headers: Headers; text: string }>;
}

/** An in-process emulator and a BFF talking to it through azure-iothub, per test file. */
export function useStack(
  options: { emulator?: EmulatorOptions; env?: Record<string, string> } = {},
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
    const config = parseConfig({
      TWINSCOPE_HUB_CONNECTION_STRING: harness.emulator.serviceConnectionString,
      TWINSCOPE_PORT: '0',
      TWINSCOPE_POLL_INTERVAL_MS: '250',
      TWINSCOPE_POLL_QUERIES_PER_MINUTE: '600',
      TWINSCOPE_LOG_LEVEL: 'debug',
      ...options.env,
    });
    config.hub.ca = harness.emulator.tls.caCert;
    config.hub.deviceHost = `${harness.emulator.hostName}:${harness.emulator.mqttPort}`;
    const logger = createLogger('debug', (line) => harness.logLines.push(line));
    harness.bff = await startBff(config, logger, { heartbeatMs: 500 });
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
  });
  return harness;
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
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false },
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
export async function openStream(url: string, lastEventId?: string) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {},
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const stream = { raw: '' };
  const waiters: (() => void)[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
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
    close: () => controller.abort(),
  };
}
