import pg from 'pg';
import { redactUrl, StoreError, unavailable, type Database, type Rows, type Sql } from './sql.ts';

/** int8 (counts, sequence numbers) as numbers, as PGlite gives them. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

const sqlOn = (client: pg.Pool | pg.PoolClient): Sql => ({
  async query<R>(text: string, params: unknown[] = []): Promise<Rows<R>> {
    try {
      const result = await client.query(text, params);
      return { rows: result.rows as R[] };
    } catch (error) {
      throw unavailable(error, 'PostgreSQL');
    }
  },
  async exec(script: string): Promise<void> {
    try {
      await client.query(script);
    } catch (error) {
      throw unavailable(error, 'PostgreSQL');
    }
  },
});

/** A server on this machine reached through its Unix socket (the embedded one). */
export interface LocalServer {
  socketDir: string;
  port: number;
  user: string;
  /** How messages name it. */
  description: string;
}

/**
 * PostgreSQL through a `pg` pool, at a URL or a local server's socket; checked with one
 * round trip before it is used.
 */
export async function openPostgres(
  at: string | LocalServer,
  options: { max?: number; connectTimeoutMs?: number } = {},
): Promise<Database> {
  const description = typeof at === 'string' ? redactUrl(at) : at.description;
  const pool = new pg.Pool({
    ...(typeof at === 'string'
      ? { connectionString: at }
      : // The BFF's own server: its socket, whatever PG* variables say (PGSSLMODE, PGOPTIONS).
        {
          host: at.socketDir,
          port: at.port,
          user: at.user,
          database: 'postgres',
          ssl: false,
          options: '',
        }),
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
      typeof at === 'string'
        ? `PostgreSQL at ${description} cannot be reached: ${(error as Error).message}. Check TWINSCOPE_DATABASE_URL and that the server is up.`
        : `${description} cannot be reached: ${(error as Error).message}.`,
      { cause: error },
    );
  }
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listening: Promise<pg.PoolClient> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  /**
   * One connection holds every LISTEN of this process. When the server drops it (a restart,
   * an outage), it is replaced every few seconds until the server is back, LISTENs and all;
   * nothing throws, the live view just hears nothing meanwhile.
   */
  const listener = (): Promise<pg.PoolClient> => {
    listening ??= (async () => {
      const client = await pool.connect();
      client.on('notification', (message) => {
        for (const handler of listeners.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      let dropped = false;
      // A dropped connection may report more than once (the server's message, then the close).
      client.on('error', () => {
        if (dropped || closed) return;
        dropped = true;
        try {
          client.release(true);
        } catch {
          // Already back in the pool (the store is closing): nothing to give back.
        }
        listening = undefined;
        if (!closed) reconnect();
      });
      for (const channel of listeners.keys())
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return client;
    })().catch((error: unknown) => {
      listening = undefined;
      throw error;
    });
    return listening;
  };
  const reconnect = () => {
    clearTimeout(retry);
    retry = setTimeout(() => {
      listener().catch(() => {
        if (!closed) reconnect();
      });
    }, 2000);
    retry.unref();
  };
  return {
    kind: 'postgresql',
    description,
    ...sqlOn(pool),
    async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect().catch((error: unknown) => {
        throw unavailable(error, 'PostgreSQL');
      });
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
      const set = listeners.get(channel) ?? new Set();
      const first = set.size === 0;
      set.add(handler);
      listeners.set(channel, set);
      if (first) await (await listener()).query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return async () => {
        set.delete(handler);
        if (set.size > 0) return;
        listeners.delete(channel);
        const client = await listening?.catch(() => undefined);
        await client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const client = await listening?.catch(() => undefined);
      listening = undefined;
      client?.release();
      await pool.end();
    },
  };
}
