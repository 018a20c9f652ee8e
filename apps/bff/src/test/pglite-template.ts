import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/** The PGlite the BFF depends on (its data directories differ between versions). */
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
  }
).dependencies['@electric-sql/pglite'];
/** One initialised, empty data directory per PGlite version, shared by every test process. */
const TEMPLATE = join(tmpdir(), `twinscope-pglite-template-${version}`);

let ready: Promise<void> | undefined;

async function ensureTemplate(): Promise<void> {
  if (existsSync(join(TEMPLATE, 'PG_VERSION'))) return;
  // Built aside and renamed into place, so no process ever copies a half-built one.
  const building = join(mkdtempSync(join(tmpdir(), 'twinscope-pglite-building-')), 'db');
  const db = await PGlite.create(building);
  await db.close();
  try {
    renameSync(building, TEMPLATE);
  } catch {
    // Another test process got there first: theirs is as good.
    rmSync(building, { recursive: true, force: true });
  }
}

/**
 * A new, empty PGlite data directory. Initialising one takes seconds (initdb in
 * WebAssembly), so one template is initialised and each database starts as its copy.
 */
export async function freshPgliteDir(): Promise<string> {
  ready ??= ensureTemplate();
  await ready;
  // In the run's scratch directory, which the run removes (each copy is tens of megabytes).
  const scratch = process.env['TWINSCOPE_TEST_SCRATCH'] ?? tmpdir();
  const copy = join(mkdtempSync(join(scratch, 'twinscope-pglite-')), 'db');
  cpSync(TEMPLATE, copy, { recursive: true });
  return copy;
}
