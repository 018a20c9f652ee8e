import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let template: Promise<string> | undefined;

/**
 * A new, empty PGlite data directory. Initialising one takes seconds (initdb in
 * WebAssembly), so each test process initialises one template and copies it.
 */
export async function freshPgliteDir(): Promise<string> {
  template ??= (async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'twinscope-pglite-template-')), 'db');
    const db = await PGlite.create(dir);
    await db.close();
    return dir;
  })();
  const copy = join(mkdtempSync(join(tmpdir(), 'twinscope-pglite-')), 'db');
  cpSync(await template, copy, { recursive: true });
  return copy;
}
