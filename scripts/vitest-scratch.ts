// One scratch directory for a Vitest run, removed when the run ends. Test workers are ended
// by the runner without their exit handlers, so what each test file makes (embedded databases
// of tens of megabytes each) goes in here and is removed here, not by the workers.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const scratch = mkdtempSync(join(tmpdir(), 'twinscope-tests-'));
  // As root the embedded PostgreSQL runs as another user, who must pass through.
  chmodSync(scratch, 0o755);
  // Workers are started after this and inherit it.
  process.env['TWINSCOPE_TEST_SCRATCH'] = scratch;
  return () => rmSync(scratch, { recursive: true, force: true });
}
