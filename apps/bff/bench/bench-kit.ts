// Shared by the benchmarks: child processes that print when ready, percentiles, and a
// small SSE reader.
import { request as httpRequest } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import { spawnEmulator } from '@twinscope/hub-emulator/spawn';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const children: ChildProcess[] = [];

export function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  /** Hears everything the process prints on stdout after it is ready. */
  onOutput?: (text: string) => void,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let seen = '';
    let isReady = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (isReady) return onOutput?.(chunk.toString());
      seen += chunk.toString();
      if (ready.test(seen)) {
        isReady = true;
        seen = '';
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

/**
 * The emulator CLI on free ports, routed as `npm start` routes it (twin changes and
 * lifecycle events to the built-in endpoint, a twinscope consumer group); returns its
 * connection.json (parsed, and where it is) and the process. `onLine` hears its output (with
 * `--verbose`, one line per request).
 */
export async function startEmulatorProcess(
  dataDir: string,
  seed: string,
  options: { extra?: string[]; onLine?: (line: string) => void } = {},
): Promise<{ connectionFile: string; connection: ConnectionFile; child: ChildProcess }> {
  const { connectionFile, connection, child } = await spawnEmulator({
    dataDir,
    args: [
      '--route',
      'TwinChangeEvents',
      '--route',
      'DeviceLifecycleEvents',
      '--consumer-group',
      'twinscope',
      '--seed',
      seed,
      ...(options.extra ?? []),
    ],
    ...(options.onLine ? { onLine: options.onLine } : {}),
    readyTimeoutMs: 30 * 60_000,
  });
  children.push(child);
  return { connectionFile, connection, child };
}

/** The BFF as `npm start` runs it, on the emulator that wrote `connectionFile`. */
export async function startBffProcess(
  connectionFile: string,
  port: number,
  env: Record<string, string>,
  onOutput?: (text: string) => void,
): Promise<ChildProcess> {
  // BENCH_BUILT=1: the built server (`npm run build` first), as it ships; otherwise the
  // sources through tsx. BENCH_DATABASE_URL: a PostgreSQL server of one's own instead of the
  // embedded one.
  const database = process.env['BENCH_DATABASE_URL'];
  return startProcess(
    process.env['BENCH_BUILT'] === '1'
      ? ['dist/console/main.js']
      : ['scripts/run-ts.mjs', 'apps/bff/src/main.ts'],
    {
      TWINSCOPE_HUB_CONNECTION_FILE: connectionFile,
      TWINSCOPE_PORT: String(port),
      // The bench's audit trail goes with its throwaway hub, not into the working tree.
      TWINSCOPE_AUDIT_FILE: join(dirname(connectionFile), 'audit.jsonl'),
      ...(database
        ? { TWINSCOPE_DATABASE_URL: database }
        : { TWINSCOPE_DATABASE_DIR: join(dirname(connectionFile), 'db') }),
      ...env,
    },
    /Twinscope BFF is listening/,
    onOutput,
  );
}

export async function stopProcesses(): Promise<void> {
  for (const child of children.reverse()) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const ms = (n: number) => `${n.toFixed(2)} ms`;

export interface TwinFrame {
  type: string;
  deviceId?: string;
  moduleId?: string;
  streamId?: string;
  feed?: { source: string };
  twin?: { properties: { desired: Record<string, unknown>; reported: Record<string, unknown> } };
}

/** Headers for a state-changing BFF call, as the console sends them (JSON + CSRF token). */
export async function changeHeaders(baseUrl: string): Promise<Record<string, string>> {
  const me = (await (await fetch(`${baseUrl}/api/me`)).json()) as { csrfToken: string };
  return { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken };
}

/** Opens /api/events and hands every decoded event to `onEvent`; resolves with the stream id. */
export async function openEvents(baseUrl: string, onEvent: (event: TwinFrame) => void) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/events`, { signal: controller.signal });
  const reader = response.body!.getReader();
  let streamId = '';
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = /data: (.*)/.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (!data) continue;
        const event = JSON.parse(data) as TwinFrame;
        if (event.type === 'hello') streamId = event.streamId ?? '';
        onEvent(event);
      }
    }
  })();
  while (!streamId) await new Promise((resolve) => setTimeout(resolve, 20));
  const headers = await changeHeaders(baseUrl);
  const watch = (twins: { deviceId: string; moduleId?: string }[]) =>
    fetch(`${baseUrl}/api/events/${streamId}/watch`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ twins }),
    });
  return { streamId, watch, close: () => controller.abort() };
}

/** Waits until the BFF at `baseUrl` reads the Event Hubs-compatible endpoint (its feed says so). */
export async function untilEventHubsFeed(baseUrl: string): Promise<void> {
  for (;;) {
    const hello = await new Promise<string>((resolve) => {
      const req = httpRequest(`${baseUrl}/api/events`, { agent: false }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!text.includes('"streamId"')) return;
          resolve(text);
          req.destroy();
        });
      });
      req.end();
    });
    if (hello.includes('"source":"event-hubs"')) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Resident memory of a process, in MB, from /proc. */
/**
 * A temporary directory for a bench's hub and database. Anyone may pass through it: as root
 * the embedded PostgreSQL runs as another user, who must reach its data.
 */
export function benchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * What the processes a process started hold (proportional set size, so pages they share are
 * counted once): the embedded PostgreSQL server beside the BFF. 0 when it started none.
 */
export function descendantsPssMb(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const family = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of parents)
      if (family.has(parent) && !family.has(child)) {
        family.add(child);
        grew = true;
      }
  }
  family.delete(pid);
  let kb = 0;
  for (const member of family) {
    try {
      kb += Number(
        /Pss:\s+(\d+)/.exec(readFileSync(`/proc/${member}/smaps_rollup`, 'utf8'))?.[1] ?? 0,
      );
    } catch {
      // Gone meanwhile.
    }
  }
  return kb / 1024;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** CPU seconds a process has used (user + system), from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
