import { parseHubTier } from '@twinscope/hub-quotas';
import { z } from 'zod';
import { DEFAULT_ROLE_MAP, parseRoleMap, type RoleMap } from '../core/roles.ts';

/**
 * The BFF's settings as one nested schema (sections hub, server, auth, session, live,
 * storage, fileUpload, rollouts), each field documented where it is declared. Parsing lists every
 * problem at once; cross-field checks run even when a field failed.
 */

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Cross-field checks run even when a field failed, so one start lists every problem. */
const ALWAYS = { when: () => true };

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .default('')
  .transform((text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

export function hasParts(connectionString: string): boolean {
  return (
    /HostName=[^;]+/.test(connectionString) &&
    /SharedAccessKeyName=[^;]+/.test(connectionString) &&
    /SharedAccessKey=[^;]+/.test(connectionString)
  );
}

const HubSection = z
  .object({
    connectionString: z
      .string()
      .refine(hasParts, 'needs HostName, SharedAccessKeyName and SharedAccessKey')
      .optional(),
    /** The emulator's connection.json, instead of a connection string and CA file. */
    connectionFile: z.string().optional(),
    caFile: z.string().optional(),
    /** Entra access to the hub instead of a shared key: the hub's host name … */
    hostName: z.string().optional(),
    /** … and which credential (@azure/identity) the BFF uses for it. */
    credential: z
      .enum(['default', 'managed-identity', 'workload-identity', 'environment'])
      .default('default'),
    /** Where devices and modules connect (`host[:port]`), for their connection strings. */
    deviceHost: z.string().optional(),
    /** The hub's AMQP port for cloud-to-device messages, when not 5671 (an emulator's). */
    amqpsPort: int(1, 65535).optional(),
    /**
     * Read the hub's cloud-to-device feedback (`off`: another back end takes it; the hub
     * has one feedback queue, and whoever reads a batch takes it from the others).
     */
    feedback: z.enum(['on', 'off']).default('on'),
    /** The hub's tier and units (S1, S2x4 …, unlimited): every budget comes from it. */
    tier: z
      .string()
      .optional()
      .superRefine((tier, ctx) => {
        if (tier === undefined) return;
        try {
          parseHubTier(tier);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      }),
    /** How long one hub call may take before the BFF gives up on it (a read answers 503). */
    timeoutMs: int(100, 300_000).default(15_000),
  })
  .superRefine((hub, ctx) => {
    if (!hub.connectionString && !hub.connectionFile && !hub.hostName)
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message:
          'set a service connection string, TWINSCOPE_HUB_HOST_NAME for Entra access, or TWINSCOPE_HUB_CONNECTION_FILE to the emulator connection.json',
      });
  }, ALWAYS);

const ServerSection = z.object({
  host: z.string().default('127.0.0.1'),
  port: int(0, 65535).default(3000),
  /** Where browsers reach Twinscope (for the sign-in redirect URI); default http://HOST:PORT. */
  publicUrl: z
    .url()
    .transform((url) => url.replace(/\/$/, ''))
    .optional(),
  /** Local mode: more `host[:port]` names to answer besides loopback. */
  allowedHosts: list,
  staticDir: z.string().optional(),
  /** Express `trust proxy`: hops (1) or addresses, when a TLS proxy sits in front. */
  trustProxy: z
    .string()
    .transform((value): string | number | boolean => {
      if (value === 'true' || value === 'false') return value === 'true';
      return /^\d+$/.test(value) ? Number(value) : value;
    })
    .optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

const roleMap = z
  .string()
  .default(DEFAULT_ROLE_MAP)
  .transform((text, ctx): RoleMap => {
    try {
      return parseRoleMap(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const LocalAuth = z.object({
  /** One operator on loopback, no sign-in. */
  mode: z.literal('local'),
  role: z.enum(['Reader', 'Operator', 'Admin']).default('Admin'),
});

const EntraAuth = z
  .object({
    /** Microsoft Entra ID sign-in (or another OpenID Connect provider). */
    mode: z.literal('entra'),
    tenantId: z.string().optional(),
    clientId: z.string({ error: 'the application (client) id of the app registration' }),
    clientSecret: z.string().optional(),
    /** PEM file with the app registration's certificate and private key, instead of a secret. */
    clientCertFile: z.string().optional(),
    authority: z.url().optional(),
    protocol: z.enum(['aad', 'oidc']).default('aad'),
    knownAuthorities: list,
    caFile: z.string().optional(),
    roleMap,
    /** `/auth/*` requests per client address per minute. */
    rateLimitPerMinute: int(1, 10_000).default(30),
  })
  .superRefine((auth, ctx) => {
    if (!auth.authority && !auth.tenantId)
      ctx.addIssue({
        code: 'custom',
        path: ['tenantId'],
        message: 'the directory (tenant) id, or set TWINSCOPE_ENTRA_AUTHORITY',
      });
    if (!auth.clientSecret && !auth.clientCertFile)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'a client secret, or TWINSCOPE_ENTRA_CLIENT_CERT_FILE for a certificate',
      });
  }, ALWAYS);

const SessionSection = z.object({
  /** Sign session cookies; several to rotate (the first signs). */
  secrets: list,
  idleMinutes: z.coerce
    .number()
    .min(1)
    .max(24 * 60)
    .default(60),
  maxHours: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /** Sessions in Redis (redis://…), shared by BFF replicas; in memory when unset. */
  redisUrl: z.string().optional(),
});

const LiveSection = z.object({
  /** Where live changes come from: Event Hubs when configured (auto), or always polling. */
  source: z.enum(['auto', 'event-hubs', 'polling']).default('auto'),
  events: z.object({
    /** The hub's built-in Event Hubs-compatible endpoint, or a custom Event Hub … */
    connectionString: z.string().optional(),
    /** … or a namespace and event hub read with an Entra credential. */
    namespace: z.string().optional(),
    hubName: z.string().optional(),
    /** Where to connect instead of the namespace (a private endpoint, a proxy). */
    endpointAddress: z.string().optional(),
    consumerGroup: z.string().min(1).default('twinscope'),
    echoTimeoutMs: int(100, 600_000).default(15_000),
  }),
  poll: z.object({
    intervalMs: int(20, 600_000).default(5000),
    /** Twin-polling queries per minute; default a quarter of the hub's, never over half. */
    queriesPerMinute: z.coerce.number().min(1).max(1_000_000).optional(),
  }),
  streams: z.object({
    /** Live streams one sign-in session (or the local operator) may hold: one per tab. */
    perSession: int(1, 100_000).default(20),
    /** Live streams one BFF process holds in all. */
    max: int(1, 1_000_000).default(2000),
    /** Telemetry messages a second one tab is sent; beyond, they are counted as dropped. */
    telemetryPerTab: int(1, 100_000).default(100),
  }),
});

const StorageSection = z.object({
  /** A JSON-lines audit trail of an earlier version: imported into the database once. */
  auditFile: z.string().default('twinscope-audit.jsonl'),
  /** Audit records older than this many days are deleted (0: kept for ever). */
  auditRetentionDays: int(0, 36_500).default(365),
  /**
   * Twin changes stored longer than this many days are deleted (0: kept for ever); every
   * version kept still rebuilds (the twin's oldest snapshot moves forward).
   */
  historyRetentionDays: int(0, 36_500).default(90),
  /** PostgreSQL for a team (several replicas share it) … */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a PostgreSQL URL, postgresql://user:password@host:5432/db')
    .optional(),
  /** … or, without one, PGlite (embedded PostgreSQL) kept in this directory. */
  databaseDir: z.string().min(1).default('twinscope-db'),
});

/** A storage connection string: an account (name and key, or a SAS) or the development storage. */
export function isStorageConnectionString(text: string): boolean {
  if (/(^|;)\s*UseDevelopmentStorage=true/i.test(text)) return true;
  const has = (part: string) => new RegExp(`(^|;)\\s*${part}=[^;]+`, 'i').test(text);
  return (
    (has('AccountName') || has('BlobEndpoint')) &&
    (has('AccountKey') || has('SharedAccessSignature'))
  );
}

const FileUploadSection = z.object({
  /**
   * The storage account devices' uploads go to (the hub's file upload settings); with the
   * emulator's connection.json, its `storage` instead. Neither: the console says file upload
   * is not configured.
   */
  connectionString: z
    .string()
    .refine(
      isStorageConnectionString,
      'a storage connection string: AccountName (or BlobEndpoint) with AccountKey or SharedAccessSignature',
    )
    .optional(),
  /** The hub's file upload container, where each device's files are `{deviceId}/{name}`. */
  container: z
    .string()
    .regex(
      /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/,
      'a container name: 3 to 63 lower-case letters, digits and single hyphens',
    )
    .default('fileupload'),
  /** How long one storage call (a listing, a download's start) may take before it answers 503. */
  timeoutMs: int(100, 300_000).default(15_000),
});

/**
 * The Device Provisioning Service the console manages (enrollments, registrations): its
 * service connection string, or its host name for Entra access with the hub's credential
 * (a DPS data-plane role). With the emulator's connection.json, its `provisioning`. None:
 * the provisioning pages say no DPS is configured.
 */
const ProvisioningSection = z.object({
  connectionString: z
    .string()
    .refine(hasParts, 'needs HostName, SharedAccessKeyName and SharedAccessKey')
    .optional(),
  /** Entra access: the service's host name (e.g. my-dps.azure-devices-provisioning.net). */
  hostName: z.string().optional(),
  /** What devices are told: the id scope (0ne…) … */
  idScope: z.string().max(64).optional(),
  /** … and the host they dial (global.azure-devices-provisioning.net for Azure). */
  deviceEndpoint: z.string().default('global.azure-devices-provisioning.net'),
});

const RolloutsSection = z.object({
  /** Twin writes a rollout keeps in flight at once (the hub budget paces them). */
  concurrency: int(1, 256).default(48),
  /** How often a wave's success condition is checked. */
  checkMs: int(100, 600_000).default(2000),
  /** How long a replica's hold on a rollout lasts unless renewed (another takes over after). */
  leaseSeconds: int(3, 3600).default(15),
  /** Rollouts one person may have active at once (they share the hub's twin-write budget). */
  activePerPerson: int(1, 1000).default(5),
  /** Rollouts active at once on the hub, whoever started them. */
  activePerHub: int(1, 10_000).default(20),
});

/** The overview: how much of the hub's query budget its scheduled looks may use. */
const OverviewSection = z.object({
  /** The share of the hub's queries a minute (20 per S1 unit) the overview's looks may use. */
  queryShare: z.coerce.number().min(0.01).max(1).default(0.2),
  /** Never more often than this, whatever the tier allows. */
  minIntervalSeconds: int(5, 86_400).default(60),
});

/** Plug and Play: where device models (DTDL) are read. */
const PnpSection = z.object({
  /**
   * A folder laid out as Microsoft's model repository, or such a repository's https URL
   * (https://devicemodels.azure.com, or a team's own). Unset: the models beside the console.
   */
  repository: z.string().min(1).optional(),
  /** How long a repository URL may take to answer. */
  timeoutMs: int(100, 120_000).default(10_000),
});

const url = (example: string) =>
  z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, `an http(s) URL, e.g. ${example}`)
    .optional();

/**
 * OpenTelemetry: traces and metrics go out over OTLP/HTTP when an endpoint is set, and to
 * Azure Monitor when its connection string is; with neither nothing is collected.
 */
const TelemetrySection = z.object({
  disabled: z.enum(['true', 'false']).default('false'),
  endpoint: url('http://otel-collector:4318'),
  tracesEndpoint: url('http://otel-collector:4318/v1/traces'),
  metricsEndpoint: url('http://otel-collector:4318/v1/metrics'),
  protocol: z
    .enum(['http/protobuf', 'http/json'], {
      message: 'http/protobuf or http/json (this build sends OTLP over HTTP, not gRPC)',
    })
    .default('http/protobuf'),
  serviceName: z.string().min(1).default('twinscope'),
  metricIntervalMs: int(1000, 3_600_000).default(60_000),
  spanDelayMs: int(10, 600_000).default(5000),
  azureMonitorConnectionString: z
    .string()
    .regex(/(^|;)\s*InstrumentationKey=[^;]+/i, 'an Application Insights connection string')
    .optional(),
});

export const SettingsSchema = z
  .object({
    hub: HubSection,
    server: ServerSection,
    auth: z.discriminatedUnion('mode', [LocalAuth, EntraAuth]),
    session: SessionSection,
    live: LiveSection,
    storage: StorageSection,
    fileUpload: FileUploadSection,
    provisioning: ProvisioningSection,
    rollouts: RolloutsSection,
    overview: OverviewSection,
    pnp: PnpSection,
    telemetry: TelemetrySection,
  })
  .superRefine((s, ctx) => {
    // Also runs when a section failed (so every problem is listed): fields may be raw text.
    if (s.auth.mode === 'local' && !LOOPBACK.has(s.server.host))
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'host'],
        message:
          'the local single-operator mode has no sign-in, so it only listens on loopback (127.0.0.1, ::1)',
      });
    const secrets: unknown = s.session.secrets;
    const signing = Array.isArray(secrets) ? String(secrets[0] ?? '') : '';
    if (s.auth.mode === 'entra' && signing.length < 32)
      ctx.addIssue({
        code: 'custom',
        path: ['session', 'secrets'],
        message: 'at least 32 random characters (it signs session cookies)',
      });
    const events = s.live.events;
    if (
      s.live.source === 'event-hubs' &&
      !events.connectionString &&
      !s.hub.connectionFile &&
      !(events.namespace && events.hubName)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['live', 'source'],
        message:
          'event-hubs needs TWINSCOPE_EVENTS_CONNECTION_STRING, or TWINSCOPE_EVENTS_NAMESPACE and TWINSCOPE_EVENTS_HUB_NAME',
      });
  }, ALWAYS);

/** The settings as parsed from the environment, before any file is read. */
export type Settings = z.output<typeof SettingsSchema>;
