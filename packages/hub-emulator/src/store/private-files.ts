import { chmodSync, existsSync, fchmodSync, openSync, writeFileSync } from 'node:fs';

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
