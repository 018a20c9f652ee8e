// The service graph under every endpoint: the access policies, the registry over its
// persistence, the built-in endpoint's storage fed by routing, and the services every
// protocol shares. Nothing here listens on a port.
import type { BlobStore } from '../uploads/blob-store.ts';
import { FILE_UPLOAD_DEFAULTS, FileUploads } from '../uploads/file-uploads.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubQuota } from '@twinscope/hub-quotas';
import { defaultPolicies, SasCache, type Policy, type SasContext } from '../auth/sas.ts';
import { CloudToDevice } from '../c2d/cloud-to-device.ts';
import { Configurations } from '../configurations/configurations.ts';
import { DeviceSessions } from '../devices/device-sessions.ts';
import { EventStore } from '../events/event-store.ts';
import { routeChanges } from '../events/routing.ts';
import { ServedOperations, Throttle, type ThrottleLimits } from '../http/throttle.ts';
import { Jobs } from '../jobs/jobs.ts';
import { seedFleet } from '../seed.ts';
import { ChangeLog } from '../store/change-log.ts';
import { JournalPersistence, MemoryPersistence, type Persistence } from '../store/persistence.ts';
import { keepPrivate, writePrivateFile } from '../store/private-files.ts';
import { Registry } from '../store/registry.ts';
import { Provisioning } from '../provisioning/provisioning.ts';
import { ImportExportJobs } from '../jobs/import-export.ts';
import type { EmulatorOptions } from './options.ts';

export interface Services {
  policies: Policy[];
  changes: ChangeLog;
  registry: Registry;
  seeded: number;
  /** The built-in endpoint's storage, and the routing that feeds it until `unroute`. */
  events: { store: EventStore; name: string; consumerGroups: string[]; unroute: () => void };
  quota: ThrottleLimits | HubQuota | undefined;
  throttle: Throttle | undefined;
  /** Service operations served per throttle class, throttled or not. */
  served: ServedOperations;
  /** The host names tokens may carry: each listener adds `host:port` once it has its port. */
  hostNames: Set<string>;
  sas: SasContext;
  sessions: DeviceSessions;
  c2d: CloudToDevice;
  jobs: Jobs;
  configurations: Configurations;
  fileUploads: FileUploads;
  /** The Device Provisioning Service beside the hub, assigning devices to it. */
  provisioning: Provisioning;
  /** The registry's import and export jobs, against blob containers. */
  importExport: ImportExportJobs;
}

function loadPolicies(dataDir: string | undefined, developmentKeys: boolean): Policy[] {
  // The development keys are the same at every start: nothing to keep.
  if (!dataDir || developmentKeys) return defaultPolicies(developmentKeys);
  const file = join(dataDir, 'policies.json');
  if (existsSync(file)) {
    keepPrivate(file);
    return JSON.parse(readFileSync(file, 'utf8')) as Policy[];
  }
  const policies = defaultPolicies();
  writePrivateFile(file, JSON.stringify(policies, null, 2));
  return policies;
}

export function createServices(
  options: EmulatorOptions,
  hostName: string,
  dataDir: string | undefined,
  blobStore: BlobStore | undefined,
  /** The emulator's CA (PEM): import and export jobs trust it for the Azurite beside it. */
  ca?: string,
): Services {
  const policies = loadPolicies(dataDir, options.developmentKeys ?? false);
  const persistence: Persistence = dataDir
    ? new JournalPersistence(join(dataDir, 'state'), {
        fsync: options.fsync ?? false,
        compactAfterBytes: 256 * 1024 * 1024,
      })
    : new MemoryPersistence();
  const changes = new ChangeLog();
  const registry = new Registry(persistence, changes);
  if (persistence instanceof JournalPersistence && persistence.shouldCompact) registry.compact();
  const seeded = options.seed === undefined ? 0 : seedFleet(registry, options.seed);

  // The built-in endpoint: routed changes, retained per partition, read over AMQP.
  const eventHubName = hostName.split('.')[0]!;
  const store = new EventStore({
    partitionCount: options.partitionCount ?? 4,
    retentionMs: (options.retentionHours ?? 24) * 3_600_000,
    ...(dataDir ? { directory: join(dataDir, 'events'), fsync: options.fsync ?? false } : {}),
  });
  const unroute = routeChanges(
    changes,
    store,
    new Set(options.routes ?? ['DeviceMessages']),
    eventHubName,
  );
  const consumerGroups = ['$Default', ...(options.consumerGroups ?? [])];

  const quota = options.throttle;
  const throttle = quota === undefined ? undefined : new Throttle(quota);
  const hostNames = new Set([hostName]);
  const sas: SasContext = {
    hostNames,
    policies,
    identityKeys: (deviceId: string, moduleId?: string) =>
      registry.find(deviceId, moduleId)?.authentication.symmetricKey,
    now: Date.now,
    cache: new SasCache(),
  };
  const sessions = new DeviceSessions(registry);
  const c2d = new CloudToDevice(registry, changes, {
    ...(dataDir ? { file: join(dataDir, 'state', 'c2d.jsonl') } : {}),
    ...(options.feedbackBatchMs !== undefined ? { feedbackBatchMs: options.feedbackBatchMs } : {}),
  });
  // Jobs v2 run in the background at the tier's pace; their state survives restarts.
  const jobs = new Jobs(registry, sessions, {
    ...(dataDir ? { file: join(dataDir, 'state', 'jobs.json') } : {}),
    ...(quota && 'rates' in quota ? { quota } : {}),
  });
  // Automatic configurations: applied to the twins they target as twins change.
  const configurations = new Configurations(registry, {
    ...(dataDir ? { file: join(dataDir, 'state', 'configurations.json') } : {}),
    ...(quota && 'rates' in quota ? { quota } : {}),
  });
  // File upload: SAS URIs into the hub's storage, and notifications of what was uploaded.
  const fileUploads = new FileUploads(
    registry,
    blobStore,
    { ...FILE_UPLOAD_DEFAULTS, ...options.fileUpload },
    Date.now,
    dataDir ? join(dataDir, 'state', 'file-notifications.json') : undefined,
  );
  // Devices provision themselves into this hub through it; its state survives restarts.
  const provisioning = new Provisioning(registry, hostName, {
    ...(dataDir ? { dataDir } : {}),
    developmentKeys: options.developmentKeys ?? false,
  });
  for (const { keyName, rights } of options.provisioningPolicies ?? [])
    provisioning.putPolicy(keyName, rights);
  // The demo's devices that provision themselves come through this group (`npm start`).
  if (options.seed === 'demo') provisioning.seedDemoGroup();
  return {
    provisioning,
    importExport: new ImportExportJobs(registry, ca),
    policies,
    changes,
    registry,
    seeded,
    events: { store, name: eventHubName, consumerGroups, unroute },
    quota,
    throttle,
    served: new ServedOperations(),
    hostNames,
    sas,
    sessions,
    c2d,
    jobs,
    configurations,
    fileUploads,
  };
}

/** Stops what the services run (timers, routing) and closes their files. */
export function closeServices(services: Services): void {
  services.events.unroute();
  services.jobs.close();
  services.configurations.close();
  services.c2d.close();
  services.fileUploads.close();
  services.events.store.close();
  services.registry.close();
}
