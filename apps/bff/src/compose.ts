import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubTokenCredential } from '@twinscope/hub-connection';
import { EventHubsSource } from './adapters/event-hubs.ts';
import { hubCredential, type TokenCredential } from './adapters/hub-credential.ts';
import { createIotHubAdapter } from './adapters/iothub/index.ts';
import { createApp, type AppDeps } from './app.ts';
import { Readiness } from './core/readiness.ts';
import { loopbackHosts } from './http/origin-guard.ts';
import { SecurityEvents } from './http/security-events.ts';
import { HubBudget } from './quota/hub-budget.ts';
import { observeGauge } from './telemetry/instruments.ts';
import { describeQuota } from '@twinscope/hub-quotas';
import type { Config } from './config/index.ts';
import { EventBroker, type BrokerOptions } from './live/broker.ts';
import { CatchUp } from './live/catch-up.ts';
import { LiveHub, type EndpointSource } from './live/live-hub.ts';
import { Poller } from './live/poller.ts';
import type { Logger } from './log.ts';
import { DeviceService } from './services/device-service.ts';
import { TwinService } from './services/twin-service.ts';
import { ModelService } from './services/model-service.ts';
import { ViewService } from './services/view-service.ts';
import { ModuleService } from './services/module-service.ts';
import { DeviceAdminService } from './services/device-admin-service.ts';
import { MethodService } from './services/method-service.ts';
import { EdgeService } from './services/edge-service.ts';
import { MessageService } from './services/message-service.ts';
import { TimelineService } from './services/timeline-service.ts';
import { FileService } from './services/file-service.ts';
import { blobFileStore } from './adapters/file-store.ts';
import { AuditTrail } from './audit/audit-trail.ts';
import { OutcomeReconciler } from './audit/reconcile.ts';
import { openDatabase } from './adapters/store/open-store.ts';
import { TwinHistory } from './history/twin-history.ts';
import { ConfigurationService } from './services/configuration-service.ts';
import { ProvisioningService } from './services/provisioning-service.ts';
import { createProvisioningAdapter } from './adapters/provisioning.ts';
import { blobJobStorage } from './adapters/job-storage.ts';
import { FleetJobService } from './services/fleet-job-service.ts';
import { RolloutDriver } from './rollouts/driver.ts';
import { Overview } from './overview/overview.ts';
import {
  defaultModelFolder,
  folderRepository,
  ModelResolver,
  urlRepository,
} from './pnp/model-repository.ts';
import { RolloutNotices } from './rollouts/notices.ts';
import { RolloutService } from './rollouts/rollout-service.ts';
import type { Database } from './adapters/store/sql.ts';
import { authRoutes } from './routes/sign-in.ts';
import { openSessionStore } from './adapters/session-store.ts';
import { createSessions, type Sessions } from './http/sessions.ts';
import { SignInClient } from './adapters/sign-in-client.ts';

export interface RunningBff {
  url: string;
  port: number;
  /** Where live events are made (sources in, broker out). */
  live: LiveHub;
  broker: EventBroker;
  audit: AuditTrail;
  db: Database;
  /** The twins' history, when changes come from an event endpoint. */
  history: TwinHistory | undefined;
  /** This replica's rollout driver. */
  rollouts: RolloutDriver;
  /** The overview's scheduled looks at the hub (one replica at a time takes each). */
  overview: Overview;
  /** Requests the guards refused, counted per guard. */
  security: SecurityEvents;
  /** Settles twin writes whose outcome was never recorded, against the hub. */
  outcomes: OutcomeReconciler;
  /**
   * Stops: at once by default; with `graceMs`, as a replica drains on SIGTERM (not ready,
   * streams ended with a retry hint, requests under way given that long to finish).
   */
  close(graceMs?: number): Promise<void>;
}

/** Wires config to adapters, services and the app, and listens. */
export async function startBff(
  config: Config,
  logger: Logger,
  brokerOptions: BrokerOptions = {},
  /** Credentials to use instead of building them from config (tests stand in for Entra). */
  credentials: {
    hub?: HubTokenCredential;
    events?: TokenCredential;
    provisioning?: HubTokenCredential;
  } = {},
): Promise<RunningBff> {
  // The team's state: PostgreSQL when configured, otherwise an embedded one in a directory.
  const storage = config.storage;
  const { db, schema } = await openDatabase(
    storage.databaseUrl
      ? { url: storage.databaseUrl }
      : {
          dir: storage.databaseDir,
          log: (level, message, fields) => logger[level](message, fields),
        },
  );
  logger.info('database', { kind: db.kind, at: db.description, schema: schema.to });
  const audit = new AuditTrail(db, logger);
  try {
    const imported = await audit.importFile(storage.auditFile);
    if (imported !== undefined)
      logger.info('imported a JSON-lines audit trail', { file: storage.auditFile, imported });
    await audit.start({ retentionDays: storage.auditRetentionDays });
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
  const entra = config.hub.entra;
  const budget = new HubBudget(config.hub.quota);
  logger.info('hub quota', {
    tier: describeQuota(config.hub.quota),
    queriesPerMinute: budget.queriesPerMinute ?? 'unlimited',
    pollQueriesPerMinute: config.live.poll.queriesPerMinute,
  });
  const hub = createIotHubAdapter({
    ...(config.hub.connectionString ? { connectionString: config.hub.connectionString } : {}),
    ...(entra
      ? {
          entra: {
            hostName: entra.hostName,
            credential: credentials.hub ?? hubCredential(entra.credential),
          },
        }
      : {}),
    ...(config.hub.ca ? { ca: config.hub.ca } : {}),
    ...(config.hub.deviceHost ? { deviceHost: config.hub.deviceHost } : {}),
    ...(config.hub.amqpsPort ? { amqpsPort: config.hub.amqpsPort } : {}),
    deadlineMs: config.hub.timeoutMs,
    budget,
    logger,
  });
  // One way: event sources → the live hub → the broker → tabs.
  let endpoint: EndpointSource | undefined;
  const events = config.live.events;
  if (events) {
    const source = new EventHubsSource({
      consumerGroup: events.consumerGroup,
      ...(events.connectionString ? { connectionString: events.connectionString } : {}),
      ...(events.namespace
        ? {
            namespace: {
              ...events.namespace,
              credential:
                credentials.events ?? hubCredential(config.hub.entra?.credential ?? 'default'),
            },
          }
        : {}),
    });
    endpoint = { source, catchUp: new CatchUp(source, hub), echoTimeoutMs: events.echoTimeoutMs };
  }
  const broker = new EventBroker({
    maxStreamsPerOwner: config.live.streams.perSession,
    maxStreams: config.live.streams.max,
    telemetryPerSecond: config.live.streams.telemetryPerTab,
    ...(endpoint ? { resume: endpoint.catchUp } : {}),
    ...brokerOptions,
  });
  // Every twin change the consumer reads is kept, once across replicas (the twins' history).
  // What came while no replica was reading, or what the database refused, is read back.
  const history = endpoint
    ? new TwinHistory(db, hub, logger, { source: endpoint.source })
    : undefined;
  history?.keep(storage.historyRetentionDays);
  // Rollouts run on whichever replica holds their lease; every replica hears their changes.
  const notices = new RolloutNotices(db, logger);
  await notices.start();
  const driver = new RolloutDriver(db, hub, audit, logger, notices, config.rollouts);
  // The landing page's charts: looked up on a schedule by one replica, read by every tab.
  const overview = new Overview(db, hub, audit, budget, logger, {
    replicaId: driver.replicaId,
    queryShare: config.overview.queryShare,
    minIntervalSeconds: config.overview.minIntervalSeconds,
  });
  // The one publisher of live events: the event sources and every other input go through it.
  const live = new LiveHub({
    telemetryRead: (count, at) => overview.telemetryRead(count, at),
    hub,
    broker,
    logger,
    ...(history ? { history } : {}),
    audit,
    rollouts: notices,
    poller: new Poller(hub, { queriesPerMinute: config.live.poll.queriesPerMinute }),
    pollIntervalMs: config.live.poll.intervalMs,
    ...(endpoint ? { endpoint } : {}),
  });
  observeState(broker, live, budget);
  let sessions: Sessions | undefined;
  let auth: AppDeps['auth'];
  // Known once the server listens (port 0 picks one).
  let allowedHosts: ReadonlySet<string> = new Set();
  if (config.auth.mode === 'local') {
    auth = {
      mode: 'local',
      role: config.auth.role,
      csrfToken: randomBytes(32).toString('base64url'),
      allowedHosts: () => allowedHosts,
    };
  } else {
    sessions = createSessions(
      config.session,
      await openSessionStore(config.session.redisUrl, logger),
    );
    auth = {
      mode: 'entra',
      sessions,
      roleMap: config.auth.roleMap,
      routes: authRoutes({
        client: new SignInClient(config.auth.signIn, logger),
        sessions,
        roleMap: config.auth.roleMap,
        logger,
        rateLimitPerMinute: config.auth.rateLimitPerMinute,
        endStreams: (sessionId) => broker.endSession(sessionId),
      }),
    };
  }
  const rollouts = new RolloutService(db, audit, notices, hub, budget, config.rollouts);
  const devices = new DeviceService(hub);
  const identities = {
    identityChanged(change: 'created' | 'deleted', deviceId: string, moduleId?: string) {
      devices.forgetModuleCount(deviceId);
      devices.forgetTotals();
      live.identityChanged(change, deviceId, moduleId);
    },
  };
  const messages = new MessageService(
    hub,
    audit,
    logger,
    (event) => live.messageFeedback(event),
    config.hub.feedback,
  );
  // The hub's feedback is one more event source: read once per process.
  const feedback = config.hub.feedback
    ? hub.receiveFeedback({
        records: (records) => messages.recordFeedback(records),
        error: (message) => logger.warn('cloud-to-device feedback', { message }),
      })
    : undefined;
  // Devices' uploads, read from the hub's storage account when one is configured.
  const fileStore = config.fileUpload ? blobFileStore(config.fileUpload, logger) : undefined;
  logger.info('file upload', fileStore ? { storage: fileStore.where } : { storage: 'none' });
  // The Device Provisioning Service, when one is configured (the emulator's, by default).
  const dpsConfig = config.provisioning;
  const dps = dpsConfig
    ? createProvisioningAdapter({
        ...(dpsConfig.connectionString
          ? { connectionString: dpsConfig.connectionString }
          : {
              entra: {
                hostName: dpsConfig.hostName!,
                credential:
                  credentials.provisioning ??
                  hubCredential(config.hub.entra?.credential ?? 'default'),
              },
            }),
        ...(dpsConfig.ca ? { ca: dpsConfig.ca } : {}),
        deadlineMs: config.hub.timeoutMs,
      })
    : undefined;
  logger.info('provisioning', dps ? { service: dps.hostName } : { service: 'none' });
  // Plug and Play models: a folder by default (no network at run time), or a repository URL.
  const modelSource = config.pnp.repository ?? defaultModelFolder();
  const models = new ModelResolver(
    modelSource === undefined
      ? undefined
      : /^https?:\/\//.test(modelSource)
        ? urlRepository(modelSource, config.pnp.timeoutMs)
        : folderRepository(modelSource),
  );
  logger.info('model repository', { at: modelSource ?? 'none' });
  const security = new SecurityEvents(logger);
  const readiness = new Readiness([
    {
      name: 'database',
      check: async () => {
        await db.query('SELECT 1');
        return undefined;
      },
    },
    {
      name: 'hub',
      check: async () => {
        const answer = await hub.answering();
        return answer.ok ? undefined : answer.reason;
      },
    },
    {
      // The event consumer reading, or the polling that stands in for it working.
      name: 'changes',
      check: async () => {
        const feed = live.feed();
        return feed.healthy ? undefined : (feed.message ?? `${feed.source} is failing`);
      },
    },
  ]);
  const app = createApp({
    readiness,
    hub,
    security,
    devices,
    twins: new TwinService(hub, live, audit),
    modules: new ModuleService(hub, identities, audit),
    deviceAdmin: new DeviceAdminService(hub, identities, audit),
    methods: new MethodService(hub, audit),
    edge: new EdgeService(hub, audit),
    messages,
    ...(history ? { history } : {}),
    configurations: new ConfigurationService(hub, audit),
    provisioning: new ProvisioningService(
      dps,
      {
        ...(dpsConfig?.idScope ? { idScope: dpsConfig.idScope } : {}),
        deviceEndpoint: dpsConfig?.deviceEndpoint ?? 'global.azure-devices-provisioning.net',
      },
      audit,
    ),
    fleetJobs: new FleetJobService(
      hub,
      config.fileUpload
        ? blobJobStorage({
            connectionString: config.fileUpload.connectionString,
            timeoutMs: config.fileUpload.timeoutMs,
            ...(config.fileUpload.ca ? { ca: config.fileUpload.ca } : {}),
          })
        : undefined,
      db,
      audit,
    ),
    rollouts,
    overview,
    models: new ModelService(hub, models),
    views: new ViewService(db, audit),
    budget,
    timeline: new TimelineService(audit, endpoint?.source, (deviceId, messageId) =>
      messages.feedbackFor(deviceId, messageId),
    ),
    files: new FileService(fileStore),
    broker,
    logger,
    auth,
    audit,
    ...(config.server.trustProxy !== undefined ? { trustProxy: config.server.trustProxy } : {}),
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    ...(config.server.staticDir ? { staticDir: config.server.staticDir } : {}),
  });
  // What was opened above, given back in order: on close, and when the port cannot be had.
  const release = async () => {
    await notices.stop();
    await history?.close().catch(() => undefined);
    await feedback?.stop();
    await hub.close();
    fileStore?.close();
    await sessions?.close();
    await audit.close();
    await db.close();
  };
  // Not app.listen: Express 5 calls its callback on an error too (a port taken, say), and
  // the BFF would go on as if it listened.
  const server: Server = createServer(app);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  // Once listening, an error of the listening socket (too many open files to accept, say)
  // is logged; the connections already open go on.
  server.on('error', (error) => logger.error('server error', { message: error.message }));
  const { port } = server.address() as AddressInfo;
  allowedHosts = loopbackHosts(port, config.server.allowedHosts);
  live.start();
  // Twin writes left without an outcome (a crash, a database outage) are settled against the hub.
  const outcomes = new OutcomeReconciler(db, hub, logger);
  outcomes.start();
  driver.start();
  overview.start();
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  return {
    url: `http://${host}:${port}`,
    port,
    live,
    broker,
    audit,
    db,
    history,
    rollouts: driver,
    overview,
    security,
    outcomes,
    async close(graceMs = 0) {
      // Not ready from now on; no new connection is accepted. Tabs' streams end with a hint
      // to come back at once (the load balancer sends them to another replica), and the
      // requests under way finish (each records its outcome) for up to `graceMs`.
      readiness.drain();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      broker.closeAll({ retryMs: 250 });
      server.closeIdleConnections();
      // Rollouts stop between steps and give their leases back, so another replica goes on.
      outcomes.stop();
      const driving = driver.stop();
      const looking = overview.stop();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        closed,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      await driving;
      await looking;
      live.stop();
      // How far the consumer read is written down (history), so the next start resumes there.
      await release();
    },
  };
}

/** What metrics read when they are collected: open streams, the feed's lag, the hub budget. */
function observeState(broker: EventBroker, live: LiveHub, budget: HubBudget): void {
  observeGauge(
    'twinscope.sse.streams',
    'Live (SSE) streams open on this replica, one per tab.',
    () => [[broker.streamCount]],
  );
  observeGauge(
    'twinscope.events.consumer.lag',
    "Events a partition of the hub's event endpoint holds that the live feed has not read yet.",
    () =>
      live
        .consumerLag()
        .map(([partition, lag]) => [
          lag,
          { 'messaging.destination.partition.id': String(partition) },
        ]),
  );
  observeGauge(
    'twinscope.hub.budget.remaining',
    "What each hub throttle's bucket holds now, as a share of a full one (0: the next call waits).",
    () => budget.remaining().map(([kind, share]) => [share, { 'twinscope.hub.class': kind }]),
  );
}
