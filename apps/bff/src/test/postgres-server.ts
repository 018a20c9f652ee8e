import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../adapters/store/sql.ts';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './harness.ts';

/** Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`), newest first. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const isRoot = process.getuid?.() === 0;

/** As root, PostgreSQL's programs run as the `postgres` user (initdb refuses root). */
function postgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (!isRoot) return {};
  const id = (flag: string) =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export const hasPostgres = postgresBin() !== undefined;

export interface PostgresServer {
  /** A URL with a password, as operators configure it. */
  url: string;
  /** Another empty database on the same server. */
  createDatabase(name: string): Promise<string>;
  /** Takes the server down (an outage): its clients are cut off, its data kept. */
  down(): Promise<void>;
  /** Brings it back on the same port with the same data. */
  up(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster on a free loopback port, in a temporary directory, with
 * password authentication; stopped and removed by `stop()`.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'twinscope-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  spawnSync('sh', ['-c', `printf 'test-password' > ${passwordFile} && chmod 644 ${passwordFile}`]);
  const user = postgresUser();
  const init = spawnSync(
    join(bin, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'twinscope',
      '--auth=scram-sha-256',
      `--pwfile=${passwordFile}`,
      '--no-sync',
      '-E',
      'UTF8',
    ],
    { encoding: 'utf8', ...user },
  );
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const base = `postgresql://twinscope:test-password@127.0.0.1:${port}`;
  const pg = await import('pg');
  let log = '';
  const launch = async () => {
    const started = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...user },
    );
    started.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const client = new pg.default.Client({ connectionString: `${base}/postgres` });
      try {
        await client.connect();
        await client.end();
        return started;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline || started.exitCode !== null)
          throw new Error(`PostgreSQL did not start: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  let server = await launch();
  const halt = async () => {
    // Fast shutdown: clients are disconnected, the cluster stops at once.
    server.kill('SIGINT');
    await new Promise((resolve) => {
      if (server.exitCode !== null) resolve(undefined);
      else server.once('exit', resolve);
    });
  };
  const createDatabase = async (name: string) => {
    const client = new pg.default.Client({ connectionString: `${base}/postgres` });
    await client.connect();
    await client.query(`CREATE DATABASE ${pg.default.escapeIdentifier(name)}`);
    await client.end();
    return `${base}/${name}`;
  };
  return {
    url: await createDatabase('twinscope'),
    createDatabase,
    down: halt,
    async up() {
      server = await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The databases the store's checks run on: PGlite always, PostgreSQL where installed. */
export const DATABASE_KINDS = [
  { name: 'PGlite', postgres: false },
  ...(hasPostgres ? [{ name: 'PostgreSQL', postgres: true }] : []),
];

/**
 * For a describe block on one kind: a PostgreSQL server when it needs one, and the databases
 * the tests open (`track`), all closed and stopped after the block.
 */
export function useDatabaseServer(postgres: boolean) {
  let server: PostgresServer | undefined;
  const open: Database[] = [];
  beforeAll(async () => {
    if (postgres) server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled(open.map((db) => db.close()));
    await server?.stop();
  });
  return {
    server: () => server!,
    track: <T extends Database>(db: T): T => {
      open.push(db);
      return db;
    },
  };
}
