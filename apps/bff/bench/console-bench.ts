// Prints the console's figures: first device page over 100k devices through the BFF, the
// BFF's overhead on a twin read against direct SDK calls, PATCH → SSE latency, and the
// console's initial JavaScript size. Emulator and BFF run as their own processes, as
// `npm start` runs them; everything stays on loopback and stops by itself.
import { bundleSizes, describeSizes } from './bundle-sizes.ts';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { registryFor } from '@twinscope/hub-connection';
import {
  benchDir,
  changeHeaders,
  ms,
  openEvents,
  percentile,
  root,
  startBffProcess,
  startEmulatorProcess,
  stopProcesses,
} from './bench-kit.ts';

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100_000);
const dataDir = benchDir('console-bench-');
const bffPort = 3290;

async function timed(n: number, run: (i: number) => Promise<unknown>) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    samples.push(performance.now() - t0);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function getJson(path: string): Promise<{ twin: { etag: string } }> {
  const response = await fetch(`http://127.0.0.1:${bffPort}${path}`);
  if (!response.ok)
    throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json() as Promise<{ twin: { etag: string } }>;
}

try {
  // The hub's own request log counts what one list view costs in queries (20 a minute on S1).
  let hubQueries = 0;
  const { connectionFile, connection } = await startEmulatorProcess(dataDir, String(DEVICES), {
    extra: ['--verbose'],
    onLine: (line) => {
      if (line.startsWith('POST /devices/query ')) hubQueries++;
    },
  });
  await startBffProcess(connectionFile, bffPort, {
    TWINSCOPE_POLL_INTERVAL_MS: '1000',
    TWINSCOPE_POLL_QUERIES_PER_MINUTE: '120',
  });
  const registry = registryFor(connection.serviceConnectionString, {
    ca: readFileSync(connection.caCertFile, 'utf8'),
  });

  /** Hub queries one request costs, read from the hub's log once it has caught up. */
  const queriesFor = async (path: string) => {
    await new Promise((r) => setTimeout(r, 300));
    const before = hubQueries;
    await getJson(path);
    await new Promise((r) => setTimeout(r, 300));
    return hubQueries - before;
  };
  const listPath = '/api/devices?pageSize=100&tag=site%3Dberlin';
  const coldView = await queriesFor(listPath);
  const warmView = await queriesFor(listPath);
  const firstList = (await (await fetch(`http://127.0.0.1:${bffPort}${listPath}`)).json()) as {
    continuation?: string;
  };
  const scrolled = await queriesFor(
    `${listPath}&continuation=${encodeURIComponent(firstList.continuation ?? '')}`,
  );

  const firstPage = await timed(15, () => getJson('/api/devices?pageSize=100'));
  const tagPage = await timed(15, () =>
    getJson('/api/devices?pageSize=100&tag=site%3Dosaka&tag=role%3Dcamera'),
  );
  const id = (i: number) => `device-${String((i * 7919) % DEVICES).padStart(6, '0')}`;
  await getJson(`/api/devices/${id(0)}`);
  await Promise.all([registry.get(id(0)), registry.getTwin(id(0))]);
  const viaBff = await timed(400, (i) => getJson(`/api/devices/${id(i)}`));
  const direct = await timed(400, (i) =>
    Promise.all([registry.get(id(i)), registry.getTwin(id(i))]),
  );

  // PATCH → SSE: one stream watching one twin; the change is made with the SDK (the
  // Event Hubs path, or polling when it is down) and through the BFF (published at once).
  const waiters: (() => void)[] = [];
  let source = 'unknown';
  const events = await openEvents(`http://127.0.0.1:${bffPort}`, (event) => {
    if (event.type === 'hello' || event.type === 'feed') source = event.feed?.source ?? source;
    if (event.type === 'twin') waiters.splice(0).forEach((w) => w());
  });
  const watched = id(42);
  await events.watch([{ deviceId: watched }]);
  await new Promise((r) => setTimeout(r, 2500));
  const nextTwinEvent = () => new Promise<void>((resolve) => waiters.push(resolve));
  const sdkToSse: number[] = [];
  for (let i = 0; i < 8; i++) {
    // Land at a random point of the poll cycle, as a change made elsewhere would.
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const event = nextTwinEvent();
    const t0 = performance.now();
    await registry.updateTwin(watched, { properties: { desired: { benchSdk: i } } }, '*');
    await event;
    sdkToSse.push(performance.now() - t0);
  }
  const bffToSse: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { twin } = await getJson(`/api/devices/${watched}`);
    const event = nextTwinEvent();
    const t0 = performance.now();
    const response = await fetch(`http://127.0.0.1:${bffPort}/api/devices/${watched}/twin`, {
      method: 'PATCH',
      headers: await changeHeaders(`http://127.0.0.1:${bffPort}`),
      body: JSON.stringify({ etag: twin.etag, desired: { benchBff: i } }),
    });
    if (!response.ok) throw new Error(`PATCH answered ${response.status}`);
    await event;
    bffToSse.push(performance.now() - t0);
  }
  events.close();
  const sizes = bundleSizes(join(root, 'apps/web/dist'));

  console.log(
    `console benchmark (${DEVICES.toLocaleString('en')} devices; emulator and BFF in their own processes, loopback)`,
  );
  console.log(
    `  first device page (100 rows + total count + module counts)  p50 ${ms(firstPage.p50)}  p99 ${ms(firstPage.p99)}`,
  );
  console.log(
    `  first page filtered by two tags                           p50 ${ms(tagPage.p50)}  p99 ${ms(tagPage.p99)}`,
  );
  console.log(
    `  hub queries per list view: first view ${coldView} (page, total, module counts), again within 30 s ${warmView}, next page on scroll ${scrolled}`,
  );
  console.log(
    `  device + twin through the BFF                             p50 ${ms(viaBff.p50)}  p99 ${ms(viaBff.p99)}`,
  );
  console.log(
    `  device + twin with direct SDK calls                       p50 ${ms(direct.p50)}  p99 ${ms(direct.p99)}`,
  );
  console.log(
    `  BFF overhead                                              p50 ${ms(viaBff.p50 - direct.p50)}`,
  );
  console.log(
    `  SDK PATCH → SSE event (${source === 'event-hubs' ? 'Event Hubs path' : 'poller, 1 s interval'})${source === 'event-hubs' ? '           ' : ''}  p50 ${ms(percentile(sdkToSse, 50))}  max ${ms(Math.max(...sdkToSse))}`,
  );
  console.log(
    `  console PATCH → SSE event (published at once)             p50 ${ms(percentile(bffToSse, 50))}  p99 ${ms(percentile(bffToSse, 99))}`,
  );
  for (const line of describeSizes(sizes)) console.log(line);
} finally {
  await stopProcesses();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
