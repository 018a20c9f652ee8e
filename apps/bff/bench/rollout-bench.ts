// Prints what the rollout work measures so far, on 100,000 emulated devices: the dry run of
// a change over the whole fleet and over one site (three hub queries each), and the BFF's
// memory. The emulator and the BFF run in their own processes, on loopback. Waves (the twin
// updates a rollout achieves against its budget) come with the rollouts themselves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  changeHeaders,
  ms,
  percentile,
  rssMb,
  startBffProcess,
  startEmulatorProcess,
  stopProcesses,
} from './bench-kit.ts';

const DEVICES = Number(process.env['BENCH_DEVICES'] ?? 100_000);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 5);
const port = 3294;
const base = `http://127.0.0.1:${port}`;

try {
  const dataDir = mkdtempSync(join(tmpdir(), 'rollout-bench-'));
  const seeding = performance.now();
  const { connectionFile } = await startEmulatorProcess(dataDir, String(DEVICES));
  console.log(
    `emulator seeded with ${DEVICES.toLocaleString('en')} devices in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );
  const bff = await startBffProcess(connectionFile, port, {});
  const headers = await changeHeaders(base);
  const dryRun = async (filter: object) => {
    const response = await fetch(`${base}/api/rollouts/dry-run`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ filter, change: { tags: { rollout: 'bench' } } }),
    });
    if (!response.ok)
      throw new Error(`dry run answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { targets: number; willChange: number };
  };
  for (const [label, filter] of [
    ['the whole fleet', {}],
    ['one site (tag site=berlin)', { tags: ['site=berlin'] }],
  ] as const) {
    const first = await dryRun(filter);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const start = performance.now();
      await dryRun(filter);
      samples.push(performance.now() - start);
    }
    console.log(
      `dry run over ${label}: ${first.targets.toLocaleString('en')} targets, ${first.willChange.toLocaleString('en')} would change; p50 ${ms(percentile(samples, 50))}, max ${ms(Math.max(...samples))} (target ≤ 10 s)`,
    );
  }
  console.log(`BFF resident memory after the dry runs: ${rssMb(bff.pid!).toFixed(0)} MB`);
} finally {
  await stopProcesses();
}
