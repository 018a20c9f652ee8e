import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A temporary directory that anyone may pass through: as root the embedded PostgreSQL runs
 * as another user, who must reach its data (mkdtemp makes directories only their owner can
 * enter). Inside the run's scratch directory, which the run removes (scripts/vitest-scratch.ts).
 */
export function reachablePlace(prefix: string): string {
  const place = mkdtempSync(join(process.env['TWINSCOPE_TEST_SCRATCH'] ?? tmpdir(), prefix));
  chmodSync(place, 0o755);
  return place;
}

/**
 * A directory for the BFF's embedded database, as it ships: not there yet, so the BFF
 * initialises it (its own PostgreSQL server, about half a second) at start.
 */
export function freshDatabaseDir(): string {
  return join(reachablePlace('twinscope-db-'), 'db');
}
