// Prints the operator's round trip: a desired change saved through the BFF, applied by the
// how-to's module app over MQTT, and its reported echo arriving at an SSE client; p50/p99
// over 200 changes. Emulator, module simulator and BFF each run as their own process.
import { rmSync } from 'node:fs';
import {
  benchDir,
  changeHeaders,
  ms,
  openEvents,
  percentile,
  startBffProcess,
  startEmulatorProcess,
  startProcess,
  stopProcesses,
  type TwinFrame,
} from './bench-kit.ts';

const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 200);
const POLL_MS = process.env['BENCH_POLL_MS'] ?? '50';
// event-hubs (as npm start runs) or polling (BFF polls the module's twin every POLL_MS).
const SOURCE = process.env['BENCH_SOURCE'] === 'polling' ? 'polling' : 'event-hubs';
const dataDir = benchDir('roundtrip-bench-');
const bff = 'http://127.0.0.1:3291';
const [deviceId, moduleId] = ['berlin-b1-hvac-02', 'controller'];

try {
  const { connectionFile } = await startEmulatorProcess(dataDir, 'demo');
  await startProcess(
    [
      'packages/module-simulator/bin/module-simulator.mjs',
      '--fleet',
      '--quiet',
      '--connection-file',
      connectionFile,
      '--query',
      `SELECT * FROM devices.modules WHERE deviceId = '${deviceId}' AND moduleId = '${moduleId}'`,
    ],
    {},
    /1 modules running/,
  );
  await startBffProcess(connectionFile, 3291, {
    TWINSCOPE_POLL_INTERVAL_MS: POLL_MS,
    TWINSCOPE_LIVE_SOURCE: SOURCE === 'polling' ? 'polling' : 'auto',
    TWINSCOPE_POLL_QUERIES_PER_MINUTE: '100000',
  });

  const waiting = new Map<number, (at: number) => void>();
  const events = await openEvents(bff, (event: TwinFrame) => {
    const echoed = event.twin?.properties.reported['step'];
    if (event.type === 'twin' && event.moduleId === moduleId && typeof echoed === 'number') {
      waiting.get(echoed)?.(performance.now());
      waiting.delete(echoed);
    }
  });
  await events.watch([{ deviceId, moduleId }]);
  await new Promise((resolve) => setTimeout(resolve, 1000));

  const path = `${bff}/api/devices/${deviceId}/modules/${moduleId}`;
  let etag = ((await (await fetch(path)).json()) as { twin: { etag: string } }).twin.etag;
  const samples: number[] = [];
  for (let step = 1; step <= CHANGES; step++) {
    const echoed = new Promise<number>((resolve) => waiting.set(step, resolve));
    const t0 = performance.now();
    const response = await fetch(`${path}/twin`, {
      method: 'PATCH',
      headers: await changeHeaders(bff),
      body: JSON.stringify({ etag, desired: { step } }),
    });
    if (!response.ok) throw new Error(`save answered ${response.status}: ${await response.text()}`);
    const arrived = await Promise.race([
      echoed,
      new Promise<number>((_, reject) =>
        setTimeout(() => reject(new Error(`no echo of step ${step}`)), 10_000),
      ),
    ]);
    samples.push(arrived - t0);
    // The echo changed the twin; the next save needs the etag it has now.
    etag = ((await (await fetch(path)).json()) as { twin: { etag: string } }).twin.etag;
  }
  events.close();
  console.log(
    `round-trip benchmark (${CHANGES} desired changes; live source ${SOURCE === 'polling' ? `polling every ${POLL_MS} ms` : 'Event Hubs-compatible endpoint'}; emulator, module app and BFF in their own processes)`,
  );
  console.log(
    `  save desired → module reports it → SSE event   p50 ${ms(percentile(samples, 50))}  p99 ${ms(percentile(samples, 99))}  max ${ms(Math.max(...samples))}`,
  );
} finally {
  await stopProcesses();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
