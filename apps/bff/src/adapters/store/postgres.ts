import pg from 'pg';
import { redactUrl, StoreError, type Database, type Rows, type Sql } from './sql.ts';

/** int8 (counts, sequence numbers) as numbers, as PGlite gives them. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const sqlOn = (client: pg.Pool | pg.PoolClient): Sql => ({
  async query<R>(text: string, params: unknown[] = []): Promise<Rows<R>> {
    const result = await client.query(text, params);
    return { rows: result.rows as R[] };
  },
  async exec(script: string): Promise<void> {
    await client.query(script);
  },
});

/** PostgreSQL through a `pg` pool; checked with one round trip before it is used. */
export async function openPostgres(
  url: string,
  options: { max?: number; connectTimeoutMs?: number } = {},
): Promise<Database> {
  const description = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // A statement that hangs (a lock, a full disk) fails instead of holding a request forever.
    statement_timeout: 15_000,
    types,
  });
  // An idle client that loses its server is dropped by the pool; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new StoreError(
      'unreachable',
      `PostgreSQL at ${description} cannot be reached: ${(error as Error).message}. Check TWINSCOPE_DATABASE_URL and that the server is up.`,
      { cause: error },
    );
  }
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listening: pg.PoolClient | undefined;
  return {
    kind: 'postgresql',
    description,
    ...sqlOn(pool),
    async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(sqlOn(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async listen(channel, handler) {
      // One connection holds every LISTEN of this process.
      if (!listening) {
        listening = await pool.connect();
        listening.on('notification', (message) => {
          for (const listener of listeners.get(message.channel) ?? [])
            listener(message.payload ?? '');
        });
      }
      const set = listeners.get(channel) ?? new Set();
      if (set.size === 0) await listening.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      set.add(handler);
      listeners.set(channel, set);
      return async () => {
        set.delete(handler);
        if (set.size === 0 && listening)
          await listening.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
      };
    },
    async close() {
      listening?.release();
      listening = undefined;
      await pool.end();
    },
  };
}
