import { migrate, type Migration } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './sql.ts';

export type DatabaseSettings = { url: string } | { dir: string };

/** Opens the configured database and brings its schema up to date, or says why it cannot. */
export async function openDatabase(
  settings: DatabaseSettings,
  migrations?: Migration[],
): Promise<{ db: Database; schema: { from: number; to: number } }> {
  const db = 'url' in settings ? await openPostgres(settings.url) : await openPglite(settings.dir);
  try {
    return { db, schema: await migrate(db, migrations) };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
