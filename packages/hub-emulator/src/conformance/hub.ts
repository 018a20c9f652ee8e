import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator.ts';
import { rawClient } from './raw-client.ts';
import { registryFor } from '@twinscope/hub-connection';

/** The unmodified SDK Registry, reaching the emulator on its port and trusting its CA. */
export function sdkRegistry(connectionString: string, ca: string) {
  return registryFor(connectionString, { ca });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Starts an in-process emulator on an ephemeral port for one test file. */
export function useHub(options: EmulatorOptions = {}) {
  const hub = {} as {
    emulator: RunningEmulator;
    registry: ReturnType<typeof sdkRegistry>;
    raw: ReturnType<typeof rawClient>;
  };
  beforeAll(async () => {
    hub.emulator = await startEmulator({ inMemory: true, httpsPort: 0, mqttPort: 0, ...options });
    hub.registry = sdkRegistry(hub.emulator.serviceConnectionString, hub.emulator.tls.caCert);
    hub.raw = rawClient(hub.emulator);
  });
  afterAll(async () => {
    hub.raw.close();
    await hub.emulator.close();
  });
  return hub;
}

/** The connection string of another policy of the same hub. */
export function policyConnectionString(
  emulator: RunningEmulator,
  keyName: string,
  key?: string,
): string {
  const policy = emulator.policies.find((p) => p.keyName === keyName)!;
  return `HostName=${emulator.hostName}:${emulator.httpsPort};SharedAccessKeyName=${keyName};SharedAccessKey=${key ?? policy.primaryKey}`;
}
