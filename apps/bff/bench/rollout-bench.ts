// Prints what guarded rollouts cost on 100,000 emulated devices: the dry run of a change over
// the whole fleet and over one site (three hub queries each); then a rollout to one site
// (about 14,300 twins) on a hub that throttles like one S3 unit, with the BFF told the same
// tier: the twin updates a second it achieves against the 250 a second it was given, the 429s
// it met (each retried, none lost: every twin is checked), and the BFF's memory meanwhile.
// The emulator and the BFF run in their own processes, on loopback.
import {
  benchDir,
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
const TIER = process.env['BENCH_TIER'] ?? 'S3';
const port = 3294;
const base = `http://127.0.0.1:${port}`;

try {
  const dataDir = benchDir('rollout-bench-');
  const seeding = performance.now();
  const { connectionFile } = await startEmulatorProcess(dataDir, String(DEVICES), {
    extra: ['--throttle', TIER],
  });
  console.log(
    `emulator seeded with ${DEVICES.toLocaleString('en')} devices in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
  );
  let retries = 0;
  const bff = await startBffProcess(connectionFile, port, { TWINSCOPE_HUB_TIER: TIER }, (text) => {
    retries += text.split('hub throttled; retrying').length - 1;
  });
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

  // A rollout to one site, in growing waves, each twin written with its etag.
  const created = await fetch(`${base}/api/rollouts`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'bench',
      filter: { tags: ['site=berlin'] },
      change: { tags: { ring: 'bench' } },
      plan: {
        canary: { kind: 'percent', value: 1 },
        growth: 4,
        maxWaves: 10,
        success: { kind: 'written' },
        failureThreshold: 0,
        approval: false,
      },
    }),
  });
  if (created.status !== 201) throw new Error(`rollout answered ${created.status}`);
  const { id } = ((await created.json()) as { rollout: { id: string } }).rollout;
  interface Progress {
    status: string;
    message?: string;
    total: number;
    counts: Record<string, number>;
    waves: number[];
    writesPerSecond: number | null;
  }
  let rollout: Progress;
  let firstWriteAt = 0;
  let peakRss = 0;
  for (;;) {
    rollout = ((await (await fetch(`${base}/api/rollouts/${id}`)).json()) as { rollout: Progress })
      .rollout;
    peakRss = Math.max(peakRss, rssMb(bff.pid!));
    const written = (rollout.counts['succeeded'] ?? 0) + (rollout.counts['written'] ?? 0);
    if (written > 0 && firstWriteAt === 0) firstWriteAt = performance.now();
    if (!['preparing', 'running'].includes(rollout.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const seconds = (performance.now() - firstWriteAt) / 1000;
  const succeeded = rollout.counts['succeeded'] ?? 0;
  const budget = (
    (await await fetch(`${base}/api/rollouts/dry-run`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ filter: { prefix: 'no-such-device' }, change: { tags: { a: 1 } } }),
    }).then((r) => r.json())) as { estimate: { twinUpdatesPerSecond: number } }
  ).estimate.twinUpdatesPerSecond;
  const rate = succeeded / seconds;
  console.log(
    `rollout to one site on ${TIER}: ${rollout.status}, ${succeeded.toLocaleString('en')} of ${rollout.total.toLocaleString('en')} twins written in ${rollout.waves.length} waves (${rollout.waves.join(', ')}) in ${seconds.toFixed(1)} s`,
  );
  console.log(
    `twin updates a second: ${rate.toFixed(1)} of the ${budget} budgeted (${((rate / budget) * 100).toFixed(1)} %, target ≥ 90 %); 429s met and retried: ${retries}; twins not written: ${rollout.total - succeeded}`,
  );
  console.log(`BFF resident memory during the rollout: peak ${peakRss.toFixed(0)} MB`);
} finally {
  await stopProcesses();
}
