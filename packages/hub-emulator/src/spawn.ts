// The emulator CLI as a child process of a test or benchmark, started as operators start
// it: what SIGKILL, SIGSTOP or a second start against the same data dir does is real.
// Light on purpose (`@twinscope/hub-emulator/spawn`): the caller does not load the emulator.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConnectionFile, type ConnectionFile } from './connection-file.ts';

/** The banner's last line (cli.ts): everything is listening and connection.json is written. */
export const READY_LINE = 'Press Ctrl+C to stop.';

const CLI = fileURLToPath(new URL('../bin/hub-emulator.mjs', import.meta.url));
const PORT_FLAGS = ['--https-port', '--mqtt-port', '--amqps-port', '--amqp-port'];

export interface SpawnEmulatorOptions {
  /** `--data-dir`: where its state is kept, and its connection.json read from. */
  dataDir: string;
  /**
   * More CLI arguments (`--seed demo`, `--route …`, `--throttle S1`, `--verbose`). Every port
   * is 0, a free one, unless a port flag is given here; storage is `none` unless `--storage`
   * is.
   */
  args?: string[];
  /** Hears each line the emulator prints once it is ready (with `--verbose`, one a request). */
  onLine?: (line: string) => void;
  /** How long it may take to print its banner. Default 60 s (a large `--seed` takes a while). */
  readyTimeoutMs?: number;
}

export interface SpawnedEmulator {
  /** Its connection.json, as written for this start. */
  connection: ConnectionFile;
  connectionFile: string;
  /** What it printed until it was ready (stdout and stderr). */
  banner: string;
  child: ChildProcess;
  /**
   * Stops it and waits for the process to end: SIGTERM (a clean close) by default, SIGKILL
   * if that takes over 5 s; `stop('SIGKILL')` kills it as a crash would.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `bin/hub-emulator.mjs`, waits for its banner, and reads its connection.json. */
export async function spawnEmulator(options: SpawnEmulatorOptions): Promise<SpawnedEmulator> {
  // Tests and benches run without Azurite unless they ask for storage.
  const extra = [
    ...(options.args?.includes('--storage') ? [] : ['--storage', 'none']),
    ...(options.args ?? []),
  ];
  const ports = PORT_FLAGS.filter((flag) => !extra.includes(flag)).flatMap((flag) => [flag, '0']);
  const dataDir = resolve(options.dataDir);
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir, ...ports, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const timeoutMs = options.readyTimeoutMs ?? 60_000;
  let banner = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`hub-emulator did not start in ${timeoutMs} ms:\n${banner}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      fail(
        new Error(
          `hub-emulator exited (${signal ?? `code ${code}`}) before it was ready:\n${banner}`,
        ),
      );
    };
    child.once('exit', onExit);
    const onStdout = (chunk: Buffer) => {
      banner += chunk.toString();
      if (!banner.includes(READY_LINE)) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.off('data', onStdout);
      ready();
    };
    child.stdout!.on('data', onStdout);
    child.stderr!.on('data', (chunk: Buffer) => {
      // Until it is ready, its complaints go into the error; after, to the caller's stderr.
      if (banner.includes(READY_LINE)) process.stderr.write(chunk);
      else banner += chunk.toString();
    });
  });
  // Its output is read from here on, so a verbose emulator never blocks on a full pipe.
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    if (!options.onLine) return;
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(options.onLine);
  });
  const connectionFile = join(dataDir, 'connection.json');
  let connection: ConnectionFile;
  try {
    connection = readConnectionFile(connectionFile);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    connection,
    connectionFile,
    banner,
    child,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const hard = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(hard);
    },
  };
}
