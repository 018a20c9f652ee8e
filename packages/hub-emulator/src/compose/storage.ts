// The hub's storage for file upload: Azurite (Microsoft's Storage emulator) as a child
// process serving the hub's own certificate, or a storage account by connection string.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TlsMaterial } from '../certs.ts';
import { azureBlobStore, type BlobStore } from '../uploads/blob-store.ts';
import { listenAddress, type EmulatorOptions } from './options.ts';

export interface RunningStorage {
  /** What a client (the console's BFF) connects to the account with. */
  connectionString: string;
  /** `azurite` when the emulator runs Azurite itself. */
  kind: 'azurite' | 'account';
  store: BlobStore;
  close(): Promise<void>;
}

/** Azurite's development account name; its key is made fresh at every start. */
const ACCOUNT = 'devstoreaccount1';
/** From the package's built code (`dist/`) or from its sources (`src/compose/`). */
const CHILD = [
  new URL('../bin/azurite-blob.mjs', import.meta.url),
  new URL('../../bin/azurite-blob.mjs', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((file) => existsSync(file))!;

/** Starts Azurite's blob service on a free port, over TLS with the hub's certificate. */
async function startAzurite(
  options: EmulatorOptions,
  hostName: string,
  tls: TlsMaterial,
  dataDir: string | undefined,
): Promise<RunningStorage> {
  const key = randomBytes(64).toString('base64');
  // Azurite reads its certificate from files; they live only while it runs.
  const secrets = mkdtempSync(join(tmpdir(), 'hub-emulator-azurite-'));
  writeFileSync(join(secrets, 'cert.pem'), tls.cert, { mode: 0o600 });
  writeFileSync(join(secrets, 'key.pem'), tls.key, { mode: 0o600 });
  const persistence = dataDir
    ? ['--location', join(dataDir, 'blobs')]
    : ['--inMemoryPersistence', '--extentMemoryLimit', '1024'];
  if (dataDir) mkdirSync(join(dataDir, 'blobs'), { recursive: true });
  const child = spawn(
    process.execPath,
    [
      CHILD,
      String(process.pid),
      '--blobHost',
      listenAddress(options),
      '--blobPort',
      String(options.storagePort ?? 0),
      '--cert',
      join(secrets, 'cert.pem'),
      '--key',
      join(secrets, 'key.pem'),
      ...persistence,
      // No network but the hub's: Azurite's telemetry stays off.
      '--disableTelemetry',
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
    ],
    {
      env: { ...process.env, AZURITE_ACCOUNTS: `${ACCOUNT}:${key}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const cleanUp = () => rmSync(secrets, { recursive: true, force: true });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('Azurite did not start within 30 s')), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${output.trim().split('\n').slice(-5).join('\n')}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = /successfully listens on https:\/\/[^\s]+:(\d+)/.exec(output);
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => fail(new Error(`Azurite exited (${code}) as it started`)));
    child.once('error', fail);
  }).catch((error: unknown) => {
    cleanUp();
    throw error;
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.removeAllListeners('exit');
  options.log?.(`storage: Azurite's blob service on ${port}`);
  const connectionString = [
    'DefaultEndpointsProtocol=https',
    `AccountName=${ACCOUNT}`,
    `AccountKey=${key}`,
    `BlobEndpoint=https://${hostName}:${port}/${ACCOUNT}`,
  ].join(';');
  return {
    connectionString,
    kind: 'azurite',
    store: azureBlobStore(connectionString, { ca: tls.caCert }),
    close: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(killer);
          clearTimeout(giveUp);
          cleanUp();
          resolve();
        };
        // Already gone (it exited, or a signal ended it): nothing to wait for.
        if (child.exitCode !== null || child.signalCode !== null) {
          cleanUp();
          resolve();
          return;
        }
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const giveUp = setTimeout(done, 7000);
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** The storage the options ask for: Azurite, an account's connection string, or none. */
export async function startStorage(
  options: EmulatorOptions,
  hostName: string,
  tls: TlsMaterial,
  dataDir: string | undefined,
): Promise<RunningStorage | undefined> {
  const storage = options.storage;
  if (!storage) return undefined;
  if (storage === 'azurite') return startAzurite(options, hostName, tls, dataDir);
  return {
    connectionString: storage.connectionString,
    kind: 'account',
    store: azureBlobStore(storage.connectionString),
    close: async () => undefined,
  };
}
