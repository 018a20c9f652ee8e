// Prints the BFF's resident memory at rest, as it ships: the built server (dist/console, no
// TypeScript loader) on a new embedded database against the emulator's demo fleet, sampled
// every 5 s for 30 s, and what its embedded PostgreSQL server's processes hold beside it.
// `npm run bench:rest` builds first. BENCH_SOURCE=1 runs the sources through tsx instead (what
// the loader costs); BENCH_DATABASE_URL a PostgreSQL server of one's own.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  benchDir,
  descendantsPssMb,
  rssMb,
  startEmulatorProcess,
  startProcess,
  stopProcesses,
} from './bench-kit.ts';

const dir = benchDir('rest-memory-');
try {
  const { connectionFile } = await startEmulatorProcess(join(dir, 'hub'), 'demo');
  const source = process.env['BENCH_SOURCE'] === '1';
  const database = process.env['BENCH_DATABASE_URL'];
  const bff = await startProcess(
    source ? ['scripts/run-ts.mjs', 'apps/bff/src/main.ts'] : ['dist/console/main.js'],
    {
      TWINSCOPE_HUB_CONNECTION_FILE: connectionFile,
      TWINSCOPE_PORT: '0',
      TWINSCOPE_AUDIT_FILE: join(dirname(connectionFile), 'audit.jsonl'),
      ...(database
        ? { TWINSCOPE_DATABASE_URL: database }
        : { TWINSCOPE_DATABASE_DIR: join(dir, 'db') }),
    },
    /Twinscope BFF is listening/,
  );
  const samples: string[] = [];
  const server: string[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    samples.push(rssMb(bff.pid!).toFixed(0));
    server.push(descendantsPssMb(bff.pid!).toFixed(0));
  }
  console.log(
    `BFF at rest (${source ? 'sources through tsx' : 'built'}, ${database ? 'a PostgreSQL server of its own' : 'embedded database, new directory'}): resident ${samples.join(', ')} MB every 5 s (target ≤ 150 MB)`,
  );
  if (!database)
    console.log(`  its embedded PostgreSQL server beside it (PSS): ${server.join(', ')} MB`);
} finally {
  await stopProcesses();
  rmSync(dir, { recursive: true, force: true });
}
