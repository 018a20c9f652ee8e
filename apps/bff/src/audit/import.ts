import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditEntry } from '@twinscope/contract';
import type { Database } from '../adapters/store/sql.ts';
import { INSERT, values, type AuditOutcome } from './records.ts';

/** A line of the JSON-lines trail of earlier versions (imported once). */
type Line =
  | ({ phase: 'attempt'; id: string; at: string } & Omit<AuditEntry, 'id' | 'at' | 'result'>)
  | ({ phase: 'outcome'; id: string; at: string } & AuditOutcome);

/**
 * Imports a JSON-lines trail of an earlier version once (attempts with their outcomes; an
 * attempt without one reads `unknown`). Returns how many records it held, or undefined when
 * there was nothing to import.
 */
export async function importAuditFile(db: Database, file: string): Promise<number | undefined> {
  const path = resolve(file);
  if (!existsSync(path)) return undefined;
  const done = await db.query('SELECT 1 FROM audit_imports WHERE file = $1', [path]);
  if (done.rows.length > 0) return undefined;
  const records = new Map<string, AuditEntry>();
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue; // a line torn by a crash mid-append
    }
    if (line.phase === 'attempt') {
      const { phase: _phase, ...attempt } = line;
      records.set(line.id, { ...attempt, result: 'unknown' });
    } else if (line.phase === 'outcome') {
      const record = records.get(line.id);
      if (!record) continue;
      const { phase: _phase, id: _id, at, ...outcome } = line;
      records.set(line.id, { ...record, ...outcome, finishedAt: at });
    }
  }
  await db.transaction(async (tx) => {
    for (const record of records.values()) await tx.query(INSERT, values(record));
    await tx.query('INSERT INTO audit_imports (file, entries) VALUES ($1, $2)', [
      path,
      records.size,
    ]);
  });
  return records.size;
}
