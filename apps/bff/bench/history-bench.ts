// Prints the twin history's figures on PGlite and on PostgreSQL: twin change events stored a
// second (through the same path as the consumer's batches), a twin's versions page and a diff
// of two versions with 10,000 versions stored, and the fleet activity page over 1,000,000
// stored changes (unfiltered and with each filter). PostgreSQL is a cluster of its own on a
// free port (Debian's postgresql package); everything stays on this machine.
import type { Twin } from '@twinscope/contract';
import type { RoutedChange } from '../src/adapters/event-hubs.ts';
import { openDatabase } from '../src/adapters/store/open-store.ts';
import type { Database } from '../src/adapters/store/sql.ts';
import { TwinHistory } from '../src/history/twin-history.ts';
import { createLogger } from '../src/log.ts';
import { freshPgliteDir } from '../src/test/pglite-template.ts';
import { hasPostgres, startPostgres } from '../src/test/postgres-server.ts';
import { ms, percentile } from './bench-kit.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const VERSIONS = Number(process.env['BENCH_VERSIONS'] ?? 10_000);
const FLEET_CHANGES = Number(process.env['BENCH_FLEET_CHANGES'] ?? 1_000_000);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 30);
const logger = createLogger('error', () => undefined);

/** Whole-twin reads for snapshots answer at once: the figures are the database's. */
const reader = {
  async getTwin(deviceId: string): Promise<Twin> {
    const twin: Twin = {
      deviceId,
      etag: 'e',
      version: 1,
      tags: { site: 'bench' },
      properties: { desired: {}, reported: {} },
    };
    return twin;
  },
};

async function timed(samples: number, work: () => Promise<unknown>): Promise<number[]> {
  await work(); // warm
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await work();
    out.push(performance.now() - start);
  }
  return out;
}

const line = (label: string, samples: number[]) =>
  console.log(
    `  ${label.padEnd(52)} p50 ${ms(percentile(samples, 50)).padStart(10)}  p95 ${ms(percentile(samples, 95)).padStart(10)}`,
  );

/** Events stored a second, fed as the consumer feeds them: batches of 200 per partition. */
async function storeRate(db: Database): Promise<number> {
  const history = new TwinHistory(db, reader, logger, { positionFlushMs: 60_000 });
  const partitions = 4;
  const twins = 2_000;
  const batches: { partition: number; changes: RoutedChange[] }[] = [];
  const sequence = new Array<number>(partitions).fill(0);
  const current: RoutedChange[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < EVENTS; i++) {
    const twin = i % twins;
    const partition = twin % partitions;
    const version = Math.floor(i / twins) + 2;
    current[partition]!.push({
      position: { partition, sequenceNumber: sequence[partition]!++ },
      source: 'twinChangeEvents',
      opType: 'updateTwin',
      deviceId: `bench-${String(twin).padStart(5, '0')}`,
      version,
      enqueuedTime: Date.now(),
      sections: ['reported'],
      patch: { properties: { reported: { temperature: 20 + (i % 10), seq: i } } },
    });
    if (current[partition]!.length === 200) {
      batches.push({ partition, changes: current[partition]! });
      current[partition] = [];
    }
  }
  current.forEach((changes, partition) => {
    if (changes.length > 0) batches.push({ partition, changes });
  });
  const start = performance.now();
  for (const { partition, changes } of batches) {
    const first = changes[0]!.position.sequenceNumber;
    history.accept(partition, changes, first, changes.at(-1)!.position.sequenceNumber);
  }
  await history.settled();
  const seconds = (performance.now() - start) / 1000;
  history.stop();
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM twin_changes');
  if (rows[0]!.n !== EVENTS) throw new Error(`stored ${rows[0]!.n} of ${EVENTS} events`);
  return EVENTS / seconds;
}

/**
 * One twin with VERSIONS versions: its first snapshot at 1, then a change for each version
 * after, stored the way the consumer stores them (so with the history's own checkpoints).
 */
async function oneLongTwin(history: TwinHistory, db: Database): Promise<void> {
  await db.query(
    `INSERT INTO twin_snapshots (device_id, module_id, version, twin, reason)
     VALUES ('long-twin', '', 1, '{"tags":{"site":"bench"},"properties":{"desired":{},"reported":{}}}', 'first-seen')`,
  );
  for (let from = 2; from <= VERSIONS; from += 200) {
    const changes: RoutedChange[] = [];
    for (let v = from; v < Math.min(from + 200, VERSIONS + 1); v++)
      changes.push({
        position: { partition: 9, sequenceNumber: v },
        source: 'twinChangeEvents',
        opType: 'updateTwin',
        deviceId: 'long-twin',
        version: v,
        enqueuedTime: Date.now() - (VERSIONS - v) * 1000,
        sections: ['desired'],
        patch: { properties: { desired: { setpoint: v % 40, [`step${v % 50}`]: v } } },
      });
    await history.record(changes);
  }
}

/** FLEET_CHANGES changes across 10,000 twins (devices and modules), over the last 30 days. */
async function bigFleet(db: Database): Promise<void> {
  const chunk = 100_000;
  for (let from = 0; from < FLEET_CHANGES; from += chunk) {
    await db.query(
      `INSERT INTO twin_changes (source_partition, source_sequence, device_id, module_id, version,
         enqueued_at, op_type, sections, patch)
       SELECT i % 4, 1000000 + i, 'fleet-' || lpad((i % 5000)::text, 5, '0'),
         CASE WHEN i % 2 = 0 THEN '' ELSE 'controller' END, 2 + i / 10000,
         now() - make_interval(secs => ($2 - i) * 2.5),
         'updateTwin',
         CASE i % 3 WHEN 0 THEN '{reported}'::text[] WHEN 1 THEN '{desired}' ELSE '{tags}' END,
         CASE i % 3
           WHEN 0 THEN jsonb_build_object('properties', jsonb_build_object('reported', jsonb_build_object('firmware', jsonb_build_object('version', '2.' || (i % 7)))))
           WHEN 1 THEN jsonb_build_object('properties', jsonb_build_object('desired', jsonb_build_object('setpoint', i % 30)))
           ELSE jsonb_build_object('tags', jsonb_build_object('batch', i % 100)) END
       FROM generate_series($1::bigint, $1::bigint + $3 - 1) AS i`,
      [from, FLEET_CHANGES, Math.min(chunk, FLEET_CHANGES - from)],
    );
  }
  // A few hundred of them were made from Twinscope: their audit records name the version.
  await db.query(
    `INSERT INTO audit_entries (id, at, actor_id, actor_name, action, device_id, module_id,
       change, result, after)
     SELECT gen_random_uuid(), now(), 'bench', 'Bench Operator', 'twin.patch',
       'fleet-' || lpad((i % 5000)::text, 5, '0'), CASE WHEN i % 2 = 0 THEN '' ELSE 'controller' END,
       '{}', 'succeeded', jsonb_build_object('version', 2 + i / 10000)
     FROM generate_series(1, $1::bigint, 3000) AS i`,
    [FLEET_CHANGES],
  );
  await db.query('ANALYZE twin_changes');
  await db.query('ANALYZE audit_entries');
}

async function run(name: string, db: Database): Promise<void> {
  console.log(`\n${name}`);
  const rate = await storeRate(db);
  console.log(
    `  twin change events stored                              ${Math.round(rate).toLocaleString('en')}/s (${EVENTS.toLocaleString('en')} events, batches of 200, 4 partitions; target ≥ 2,000/s)`,
  );
  const history = new TwinHistory(db, reader, logger, { positionFlushMs: 60_000 });
  await oneLongTwin(history, db);
  const ref = { deviceId: 'long-twin' };
  line(
    `versions page (newest 50 of ${VERSIONS.toLocaleString('en')}; target 50 ms)`,
    await timed(SAMPLES, () => history.versions(ref, { limit: 50 })),
  );
  line(
    `versions page deep in the list (before ${VERSIONS / 2})`,
    await timed(SAMPLES, () => history.versions(ref, { limit: 50, before: VERSIONS / 2 })),
  );
  line(
    `diff of two versions (v${VERSIONS - 1} and v${VERSIONS}; target 50 ms)`,
    await timed(SAMPLES, () =>
      Promise.all([history.at(ref, VERSIONS - 1), history.at(ref, VERSIONS)]),
    ),
  );
  line(
    `diff of two far versions (v2 and v${VERSIONS})`,
    await timed(SAMPLES, () => Promise.all([history.at(ref, 2), history.at(ref, VERSIONS)])),
  );
  const fill = performance.now();
  await bigFleet(db);
  console.log(
    `  (${FLEET_CHANGES.toLocaleString('en')} fleet changes written in ${((performance.now() - fill) / 1000).toFixed(1)} s)`,
  );
  const { rows } = await db.query<{ n: number; bytes: number }>(
    `SELECT count(*) AS n, pg_total_relation_size('twin_changes') AS bytes FROM twin_changes`,
  );
  console.log(
    `  stored: ${rows[0]!.n.toLocaleString('en')} changes, ${(rows[0]!.bytes / rows[0]!.n).toFixed(0)} bytes each with indexes`,
  );
  const page = (query: Record<string, unknown>) => () =>
    history.activity({ limit: 50, ...query } as Parameters<TwinHistory['activity']>[0]);
  line('fleet activity, newest 50 (target 100 ms)', await timed(SAMPLES, page({})));
  const first = await history.activity({ limit: 50 });
  line('fleet activity, the page after', await timed(SAMPLES, page({ before: first.next })));
  line('fleet activity, one device', await timed(SAMPLES, page({ deviceId: 'fleet-01234' })));
  line('fleet activity, one section (desired)', await timed(SAMPLES, page({ section: 'desired' })));
  line('fleet activity, by source (module)', await timed(SAMPLES, page({ source: 'module' })));
  line(
    'fleet activity, by source (another back end)',
    await timed(SAMPLES, page({ source: 'backend' })),
  );
  line(
    'fleet activity, by source (Twinscope: a few hundred)',
    await timed(SAMPLES, page({ source: 'twinscope' })),
  );
  line(
    'fleet activity, by key (firmware.version)',
    await timed(SAMPLES, page({ key: 'firmware.version' })),
  );
  history.stop();
}

const pglite = (await openDatabase({ dir: await freshPgliteDir() })).db;
try {
  await run('PGlite (embedded, in the BFF process)', pglite);
} finally {
  await pglite.close();
}
if (hasPostgres) {
  const server = await startPostgres();
  const db = (await openDatabase({ url: await server.createDatabase('bench') })).db;
  try {
    await run('PostgreSQL 15 (own cluster, pg pool)', db);
  } finally {
    await db.close();
    await server.stop();
  }
} else console.log('\nPostgreSQL: not installed here (apt-get install postgresql), skipped');
