import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  embeddedPostgresHome,
  rootServerUser,
  startEmbeddedServer,
  type ServerLog,
} from './embedded-server.ts';
import { migrate, type Migration } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './sql.ts';

export type DatabaseSettings = { url: string } | { dir: string; log?: ServerLog };

/**
 * The embedded database in `dir`: a PostgreSQL server of the BFF's own where the npm
 * registry has binaries for this machine (Linux, x64 and arm64), PGlite elsewhere and for a
 * directory PGlite made before (its files sit at the directory's root), so that no team's
 * state is left behind. PGlite holds ~240 MB it never gives back; the server, ~47 MB.
 */
export async function openEmbedded(dir: string, log?: ServerLog): Promise<Database> {
  const home = embeddedPostgresHome();
  if (existsSync(join(dir, 'PG_VERSION'))) {
    if (home)
      log?.('info', 'the database directory was made by PGlite: PGlite keeps serving it', {
        dir,
        detail:
          'a new TWINSCOPE_DATABASE_DIR gets the embedded PostgreSQL server, which holds about 200 MB less',
      });
    return openPglite(dir);
  }
  if (!home) return openPglite(dir);
  if (
    process.getuid?.() === 0 &&
    !rootServerUser(dir) &&
    // A server's cluster already here is refused with what to do, never hidden behind PGlite.
    !existsSync(join(dir, 'postgresql'))
  ) {
    // PostgreSQL refuses root, and no user of its own is here to run it.
    log?.('warn', 'running as root with no "postgres" user: the embedded database is PGlite', {
      dir,
      detail:
        'run Twinscope as another user, or add a postgres user (Debian: apt-get install postgresql), for the embedded PostgreSQL server, which holds about 200 MB less',
    });
    return openPglite(dir);
  }
  const server = await startEmbeddedServer(dir, home, log);
  let db: Database;
  try {
    db = await openPostgres({ ...server, description: `the embedded PostgreSQL in ${dir}` });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    ...db,
    async close() {
      try {
        await db.close();
      } finally {
        await server.stop();
      }
    },
  };
}

/** Opens the configured database and brings its schema up to date, or says why it cannot. */
export async function openDatabase(
  settings: DatabaseSettings,
  migrations?: Migration[],
): Promise<{ db: Database; schema: { from: number; to: number } }> {
  const db =
    'url' in settings
      ? await openPostgres(settings.url)
      : await openEmbedded(settings.dir, settings.log);
  try {
    return { db, schema: await migrate(db, migrations) };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
