// Prints twin PATCH → SSE frame latency through the Event Hubs path (hub → routed twin
// change event → the BFF's one consumer → fan-out) at 1 and at 1,000 concurrent SSE clients
// on one BFF, and the BFF's resident memory with 1,000 clients. Emulator and BFF run in
// their own processes; everything stays on loopback.
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { registryFor } from '@twinscope/hub-connection';
import {
  benchDir,
  changeHeaders,
  descendantsPssMb,
  ms,
  percentile,
  rssMb,
  startBffProcess,
  startEmulatorProcess,
  stopProcesses,
  untilEventHubsFeed,
} from './bench-kit.ts';

const MANY = Number(process.env['BENCH_CLIENTS'] ?? 1000);
const CHANGES_ONE = Number(process.env['BENCH_CHANGES_ONE'] ?? 100);
const CHANGES_MANY = Number(process.env['BENCH_CHANGES_MANY'] ?? 30);
const PORT = 3293;
const bff = `http://127.0.0.1:${PORT}`;
const deviceId = 'berlin-b1-meter-03';
const dataDir = benchDir('events-bench-');

interface Client {
  streamId: string;
  /** step → arrival time */
  arrivals: Map<number, number>;
  close(): void;
}

/** One SSE client on its own socket, scanning frames for the bench's tag and nothing more. */
function openClient(onArrival: () => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const arrivals = new Map<number, number>();
    let buffer = '';
    let resolved = false;
    const req = request(`${bff}/api/events`, { agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!resolved) {
            const streamId = /"streamId":"([^"]+)"/.exec(frame)?.[1];
            if (streamId) {
              resolved = true;
              resolve({ streamId, arrivals, close: () => req.destroy() });
            }
            continue;
          }
          const step = /"benchStep":(\d+)/.exec(frame)?.[1];
          if (step !== undefined && !arrivals.has(Number(step))) {
            arrivals.set(Number(step), now);
            onArrival();
          }
        }
      });
    });
    req.on('error', (error) => {
      if (!resolved) reject(error);
    });
    req.end();
  });
}

async function run(
  clients: Client[],
  changes: number,
  firstStep: number,
  registry: ReturnType<typeof registryFor>,
  arrivals: { count: number },
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < changes; i++) {
    const step = firstStep + i;
    arrivals.count = 0;
    const twin = (await registry.getTwin(deviceId)).responseBody;
    const sentAt = performance.now();
    await registry.updateTwin(deviceId, { tags: { benchStep: step } }, twin.etag);
    const deadline = Date.now() + 10_000;
    while (arrivals.count < clients.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 2));
    for (const client of clients) {
      const at = client.arrivals.get(step);
      if (at === undefined) throw new Error(`a client never got step ${step}`);
      samples.push(at - sentAt);
    }
  }
  return samples;
}

try {
  const progress = (line: string) => process.stderr.write(`events-bench: ${line}\n`);
  const { connectionFile, connection } = await startEmulatorProcess(dataDir, 'demo');
  progress('emulator up');
  // One local operator opens all the streams: lift the per-tab caps to what this measures.
  const bffProcess = await startBffProcess(connectionFile, PORT, {
    TWINSCOPE_STREAMS_PER_SESSION: String(MANY + 10),
    TWINSCOPE_STREAMS_MAX: String(MANY + 10),
  });
  const registry = registryFor(connection.serviceConnectionString, {
    ca: readFileSync(connection.caCertFile, 'utf8'),
  });
  const headers = await changeHeaders(bff);
  const arrivals = { count: 0 };
  const onArrival = () => arrivals.count++;
  const connect = async (count: number) => {
    const opened: Client[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => openClient(onArrival)),
      );
      await Promise.all(
        batch.map((client) =>
          fetch(`${bff}/api/events/${client.streamId}/watch`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ twins: [{ deviceId }] }),
          }),
        ),
      );
      opened.push(...batch);
    }
    return opened;
  };
  // Wait until the BFF reads the endpoint (its feed reports event-hubs).
  await untilEventHubsFeed(bff);

  progress('BFF reads the event endpoint');
  const one = await connect(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const single = await run(one, CHANGES_ONE, 1, registry, arrivals);
  one.forEach((c) => c.close());

  progress(`1 client done; connecting ${MANY}`);
  const many = await connect(MANY);
  progress(`${MANY} clients connected`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const fanOut = await run(many, CHANGES_MANY, 10_000, registry, arrivals);
  const memory = rssMb(bffProcess.pid!);
  const server = descendantsPssMb(bffProcess.pid!);
  many.forEach((c) => c.close());

  console.log(
    'events benchmark (twin PATCH by the SDK → routed twin change event → BFF Event Hubs consumer → SSE frame; emulator and BFF in their own processes, loopback)',
  );
  console.log(
    `  1 client       ${CHANGES_ONE} changes   p50 ${ms(percentile(single, 50))}  p99 ${ms(percentile(single, 99))}  max ${ms(Math.max(...single))}`,
  );
  console.log(
    `  ${MANY} clients  ${CHANGES_MANY} changes (${fanOut.length} frames)   p50 ${ms(percentile(fanOut, 50))}  p99 ${ms(percentile(fanOut, 99))}  max ${ms(Math.max(...fanOut))}   (target p99 ≤ 250 ms)`,
  );
  console.log(
    `  BFF resident memory with ${MANY} clients: ${memory.toFixed(0)} MB (target ≤ 250 MB)${server > 0 ? `; its embedded PostgreSQL server beside it: ${server.toFixed(0)} MB (PSS)` : ''}`,
  );
} finally {
  await stopProcesses();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
