import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { StoreError, unavailable, type Database, type Rows, type Sql } from './sql.ts';

/** int8 as a number, as the PostgreSQL adapter gives it. */
const parsers = { 20: (value: string) => Number(value) };

const sqlOn = (db: PGlite | Transaction): Sql => ({
  async query<R>(text: string, params: unknown[] = []): Promise<Rows<R>> {
    try {
      const result = await db.query<R>(text, params);
      return { rows: result.rows };
    } catch (error) {
      throw unavailable(error, 'the embedded PGlite');
    }
  },
  async exec(script: string): Promise<void> {
    try {
      await db.exec(script);
    } catch (error) {
      throw unavailable(error, 'the embedded PGlite');
    }
  },
});

/**
 * PostgreSQL's memory settings are a server's: shared_buffers alone is 128 MB, and PGlite
 * holds it in its WebAssembly heap, which never shrinks. 8 MB is plenty for one BFF's team
 * state; measured at rest, PGlite opening an existing directory: 355 MB resident → 240 MB.
 */
const START_PARAMS = [
  ...PGlite.defaultStartParams,
  ...['-c', 'shared_buffers=8MB'],
  ...['-c', 'maintenance_work_mem=16MB'],
  ...['-c', 'temp_buffers=2MB'],
];

/**
 * A new data directory is made by initdb, a WebAssembly program of its own whose memory
 * stayed in the process after it ended (855 MB resident against 355 MB opening an existing
 * directory). Made in a worker thread that then ends, that memory goes with the thread.
 */
async function initialiseApart(dir: string): Promise<void> {
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(workerData.pglite)
       .then(async ({ PGlite }) => {
         const db = await PGlite.create(workerData.dir, { startParams: workerData.startParams });
         await db.close();
         parentPort.postMessage('');
       })
       .catch((error) => parentPort.postMessage(String((error && error.message) || error)));`,
    { eval: true, workerData: { pglite, dir, startParams: START_PARAMS } },
  );
  try {
    const problem = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => resolve(`initdb's thread ended early (${code})`));
    });
    if (problem) throw new Error(problem);
  } finally {
    await worker.terminate();
  }
}

/**
 * PGlite: PostgreSQL compiled to WebAssembly, in this process, kept in `dir` (nothing to
 * install). One connection: statements run one at a time, transactions included.
 */
export async function openPglite(dir: string): Promise<Database> {
  let db: PGlite;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(join(dir, 'PG_VERSION'))) await initialiseApart(dir);
    db = await PGlite.create(dir, { parsers, startParams: START_PARAMS });
    await db.query('SELECT 1');
  } catch (error) {
    throw new StoreError(
      'corrupt',
      `The embedded database in ${dir} cannot be opened (${(error as Error).message}). Move that directory aside to start with an empty one, or restore it from a backup.`,
      { cause: error },
    );
  }
  return {
    kind: 'pglite',
    description: dir,
    ...sqlOn(db),
    transaction: (work) => db.transaction((tx) => work(sqlOn(tx))),
    async listen(channel, handler) {
      const unlisten = await db.listen(channel, handler);
      return unlisten;
    },
    close: () => db.close(),
  };
}
