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
  api(
    path: string,
    init?: RequestInit & { json?: unknown },
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
    harness.api = async (path, init = {}) => {
      const { json, ...rest } = init;
      const response = await fetch(`${harness.bff.url}${path}`, {
        ...rest,
        ...(json !== undefined
          ? {
              body: JSON.stringify(json),
              headers: { 'Content-Type': 'application/json', ...(rest.headers as object) },
            }
          : {}),
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      return { status: response.status, body, headers: response.headers, text };
    };
  });
  afterAll(async () => {
    await harness.bff?.close();
    await harness.emulator?.close();
  });
  return harness;
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
  const waiters: (() => void)[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
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
