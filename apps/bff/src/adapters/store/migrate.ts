import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StoreError, type Database } from './sql.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The BFF's migrations, `0001-name.sql`…, the same on both databases: in `apps/bff/migrations`,
 * or beside the built server (`dist/console/migrations`, where `npm run build` puts them).
 */
export const MIGRATIONS_DIR = [
  new URL('./migrations/', import.meta.url),
  new URL('../../../migrations/', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(dir))!;

/** Every migration in a folder, in order; numbered 1, 2, 3 … without gaps or repeats. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d{4})-([a-z0-9-]+)\.sql$/.exec(file);
      if (!match) throw new Error(`migration ${file} is not named like 0001-what-it-does.sql`);
      return {
        version: Number(match[1]),
        name: match[2]!,
        sql: readFileSync(join(dir, file), 'utf8'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(
        `migrations must be numbered 1, 2, 3 …: ${migration.version} is out of place`,
      );
  });
  return migrations;
}

/** Any number: replicas starting together take this lock, so one migrates and the others wait. */
const MIGRATION_LOCK = 0x7457_696e;

/**
 * Brings the schema up to date in one transaction: every pending migration is applied, or
 * none is (a failure rolls all of them back and start is refused). A database whose schema
 * is newer than this code knows is refused too: an older replica must not write to it.
 */
export async function migrate(
  db: Database,
  migrations: Migration[] = readMigrations(),
): Promise<{ from: number; to: number }> {
  const latest = migrations.at(-1)?.version ?? 0;
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS twinscope_schema (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number | null }>(
      'SELECT max(version) AS version FROM twinscope_schema',
    );
    const from = rows[0]?.version ?? 0;
    if (from > latest)
      throw new StoreError(
        'schema_newer',
        `The database (${db.description}) has schema version ${from}, newer than this Twinscope knows (${latest}). Run the newer Twinscope, or restore a backup taken before it.`,
      );
    for (const migration of migrations) {
      if (migration.version <= from) continue;
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        throw new StoreError(
          'migration_failed',
          `Migration ${migration.version} (${migration.name}) failed on ${db.description}: ${(error as Error).message}. Nothing was changed; start was refused.`,
          { cause: error },
        );
      }
      await tx.query('INSERT INTO twinscope_schema (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    return { from, to: Math.max(from, latest) };
  });
}
