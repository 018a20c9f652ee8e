import {
  chmodSync,
  existsSync,
  fchmodSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';

/**
 * Files that hold keys (policies, identities, connection strings, TLS private keys) are
 * readable by their owner only. The mode is set on every write, so files an older version
 * left readable to others are tightened too.
 */
export function writePrivateFile(path: string, data: string): void {
  writeFileSync(path, data, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Opens a file that holds keys (the journal, a snapshot) owner-only, whatever it was before. */
export function openPrivateFile(path: string, flags: 'a' | 'w'): number {
  const fd = openSync(path, flags, 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

/** Tightens an existing key-holding file that this run only reads. */
export function keepPrivate(path: string): void {
  if (existsSync(path)) chmodSync(path, 0o600);
}

/**
 * State (the jobs' and configurations' arrays, the provisioning service's) written whole: to a temporary file, then
 * renamed over the old one, so a crash leaves the old or the new file, never half of one.
 */
export function writeJsonState(path: string, state: unknown): void {
  writePrivateFile(`${path}.next`, JSON.stringify(state));
  renameSync(`${path}.next`, path);
}

/**
 * Reads such a file. One that does not parse (edited by hand, a disk error) is moved aside
 * as `<file>.unreadable-<time>` and the emulator starts without it, saying so.
 */
export function readJsonState<T>(path: string, what: string): T[] {
  if (!existsSync(path)) return [];
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a JSON array');
    return parsed as T[];
  } catch (error) {
    const aside = `${path}.unreadable-${Date.now()}`;
    renameSync(path, aside);
    console.error(
      `The saved ${what} could not be read (${(error as Error).message}); starting without them. The file is kept as ${aside}.`,
    );
    return [];
  }
}
