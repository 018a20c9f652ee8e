import { AppError } from '../../core/app-error.ts';

/** A query's rows; both databases answer in this shape. */
export interface Rows<R> {
  rows: R[];
}

/** What the store needs of a SQL connection (or of one transaction on it). */
export interface Sql {
  /** One statement with `$1`-style parameters: values never enter the SQL text. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Rows<R>>;
  /** Several statements without parameters (a migration script). */
  exec(script: string): Promise<void>;
}

/**
 * The team's database: PostgreSQL (`pg` pool) for several replicas, or PGlite (Postgres in
 * WebAssembly, in this process, kept in a directory) as the embedded default. The same SQL,
 * migrations and behaviour on both: int8 comes back as a number, jsonb as a value,
 * timestamptz as a Date.
 */
export interface Database extends Sql {
  readonly kind: 'postgresql' | 'pglite';
  /** Where it is, for messages: the URL without its password, or the directory. */
  readonly description: string;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T>;
  /** Hears NOTIFY on a channel (every replica's writes); the returned function stops it. */
  listen(channel: string, handler: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A database that could not be opened or migrated; the message says what to do. */
export class StoreError extends Error {
  constructor(
    readonly code: 'unreachable' | 'schema_newer' | 'migration_failed' | 'corrupt',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Errors that mean the server is gone or unreachable, not that a statement was wrong. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  // SQLSTATE: connection exceptions (08…) and the server shutting down or starting (57P…).
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * A statement that failed because the database is away (down, restarting, unreachable, or
 * closed) becomes a 503 saying so, so a refusal never blames the hub; other errors stand.
 */
export function unavailable(error: unknown, what: string): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const away =
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    /Connection terminated|timeout exceeded when trying to connect|connection error|PGlite is closed|Cannot use a pool after calling end/i.test(
      error.message,
    );
  if (!away) return error;
  return new AppError(
    'database_unavailable',
    `The team's database (${what}) cannot be reached right now; the IoT hub was not asked. Try again once it is back, or ask an administrator to check it.`,
    { cause: error },
  );
}

/** A PostgreSQL URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the configured database URL (not a valid URL)';
  }
}
