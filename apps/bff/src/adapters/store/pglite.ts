import { mkdirSync } from 'node:fs';
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
 * PGlite: PostgreSQL compiled to WebAssembly, in this process, kept in `dir` (nothing to
 * install). One connection: statements run one at a time, transactions included.
 */
export async function openPglite(dir: string): Promise<Database> {
  let db: PGlite;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    db = await PGlite.create(dir, { parsers });
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
