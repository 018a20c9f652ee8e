import { existsSync, readFileSync } from 'node:fs';
import { parseHubTier, type HubQuota } from '@twinscope/hub-quotas';
import { z } from 'zod';
import { DEFAULT_ROLE_MAP, parseRoleMap, type RoleMap } from './auth/roles.ts';
import type { SignInSettings } from './adapters/sign-in-client.ts';

/**
 * The BFF's configuration: environment variables, each mapped to a place in one nested
 * schema (sections hub, server, auth, session, live, storage). Parsing lists every problem
 * at once by variable name; files named by variables are read only after everything parsed.
 */

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Every variable the BFF reads, and where it lands in the schema's input. */
const VARIABLES = {
  TWINSCOPE_HUB_CONNECTION_STRING: 'hub.connectionString',
  TWINSCOPE_HUB_CONNECTION_FILE: 'hub.connectionFile',
  TWINSCOPE_HUB_CA_FILE: 'hub.caFile',
  TWINSCOPE_HUB_HOST_NAME: 'hub.hostName',
  TWINSCOPE_HUB_CREDENTIAL: 'hub.credential',
  TWINSCOPE_HUB_DEVICE_HOST: 'hub.deviceHost',
  TWINSCOPE_HUB_AMQPS_PORT: 'hub.amqpsPort',
  TWINSCOPE_C2D_FEEDBACK: 'hub.feedback',
  TWINSCOPE_HUB_TIER: 'hub.tier',
  TWINSCOPE_HUB_TIMEOUT_MS: 'hub.timeoutMs',
  TWINSCOPE_HOST: 'server.host',
  TWINSCOPE_PORT: 'server.port',
  TWINSCOPE_PUBLIC_URL: 'server.publicUrl',
  TWINSCOPE_ALLOWED_HOSTS: 'server.allowedHosts',
  TWINSCOPE_STATIC_DIR: 'server.staticDir',
  TWINSCOPE_TRUST_PROXY: 'server.trustProxy',
  TWINSCOPE_LOG_LEVEL: 'server.logLevel',
  TWINSCOPE_AUTH_MODE: 'auth.mode',
  TWINSCOPE_LOCAL_ROLE: 'auth.role',
  TWINSCOPE_ENTRA_TENANT_ID: 'auth.tenantId',
  TWINSCOPE_ENTRA_CLIENT_ID: 'auth.clientId',
  TWINSCOPE_ENTRA_CLIENT_SECRET: 'auth.clientSecret',
  TWINSCOPE_ENTRA_CLIENT_CERT_FILE: 'auth.clientCertFile',
  TWINSCOPE_ENTRA_AUTHORITY: 'auth.authority',
  TWINSCOPE_ENTRA_PROTOCOL: 'auth.protocol',
  TWINSCOPE_ENTRA_KNOWN_AUTHORITIES: 'auth.knownAuthorities',
  TWINSCOPE_ENTRA_CA_FILE: 'auth.caFile',
  TWINSCOPE_ROLE_MAP: 'auth.roleMap',
  TWINSCOPE_AUTH_RATE_LIMIT: 'auth.rateLimitPerMinute',
  TWINSCOPE_SESSION_SECRET: 'session.secrets',
  TWINSCOPE_SESSION_IDLE_MINUTES: 'session.idleMinutes',
  TWINSCOPE_SESSION_MAX_HOURS: 'session.maxHours',
  TWINSCOPE_REDIS_URL: 'session.redisUrl',
  TWINSCOPE_LIVE_SOURCE: 'live.source',
  TWINSCOPE_EVENTS_CONNECTION_STRING: 'live.events.connectionString',
  TWINSCOPE_EVENTS_NAMESPACE: 'live.events.namespace',
  TWINSCOPE_EVENTS_HUB_NAME: 'live.events.hubName',
  TWINSCOPE_EVENTS_ENDPOINT_ADDRESS: 'live.events.endpointAddress',
  TWINSCOPE_EVENTS_CONSUMER_GROUP: 'live.events.consumerGroup',
  TWINSCOPE_EVENTS_ECHO_TIMEOUT_MS: 'live.events.echoTimeoutMs',
  TWINSCOPE_POLL_INTERVAL_MS: 'live.poll.intervalMs',
  TWINSCOPE_POLL_QUERIES_PER_MINUTE: 'live.poll.queriesPerMinute',
  TWINSCOPE_STREAMS_PER_SESSION: 'live.streams.perSession',
  TWINSCOPE_STREAMS_MAX: 'live.streams.max',
  TWINSCOPE_TELEMETRY_PER_TAB: 'live.streams.telemetryPerTab',
  TWINSCOPE_AUDIT_FILE: 'storage.auditFile',
  TWINSCOPE_AUDIT_RETENTION_DAYS: 'storage.auditRetentionDays',
  TWINSCOPE_HISTORY_RETENTION_DAYS: 'storage.historyRetentionDays',
  TWINSCOPE_DATABASE_URL: 'storage.databaseUrl',
  TWINSCOPE_DATABASE_DIR: 'storage.databaseDir',
  TWINSCOPE_ROLLOUT_CONCURRENCY: 'rollouts.concurrency',
  TWINSCOPE_ROLLOUT_CHECK_MS: 'rollouts.checkMs',
  TWINSCOPE_ROLLOUT_LEASE_SECONDS: 'rollouts.leaseSeconds',
} as const;

type Variable = keyof typeof VARIABLES;
const variableAt = new Map(
  Object.entries(VARIABLES).map(([name, path]) => [path, name as Variable]),
);

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

function hasParts(connectionString: string): boolean {
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

const LocalAuth = z.object({
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

const RolloutsSection = z.object({
  /** Twin writes a rollout keeps in flight at once (the hub budget paces them). */
  concurrency: int(1, 256).default(48),
  /** How often a wave's success condition is checked. */
  checkMs: int(100, 600_000).default(2000),
  /** How long a replica's hold on a rollout lasts unless renewed (another takes over after). */
  leaseSeconds: int(3, 3600).default(15),
});

const SettingsSchema = z
  .object({
    hub: HubSection,
    server: ServerSection,
    auth: z.discriminatedUnion('mode', [LocalAuth, EntraAuth]),
    session: SessionSection,
    live: LiveSection,
    storage: StorageSection,
    rollouts: RolloutsSection,
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

/** The configuration the BFF runs with: the settings, with named files read and resolved. */
export interface Config {
  hub: {
    /** A service connection string, or … */
    connectionString?: string;
    /** … a host name reached with an Entra credential. */
    entra?: { hostName: string; credential: Settings['hub']['credential'] };
    ca?: string;
    deviceHost?: string;
    /** The hub's AMQP port (cloud-to-device), when not 5671. */
    amqpsPort?: number;
    /** Whether this BFF reads the hub's cloud-to-device feedback. */
    feedback: boolean;
    timeoutMs: number;
    /** The hub's throttles; none: the hub has no quota (the emulator without --throttle). */
    quota?: HubQuota;
  };
  server: Settings['server'];
  auth:
    | z.output<typeof LocalAuth>
    | {
        mode: 'entra';
        signIn: SignInSettings;
        roleMap: RoleMap;
        rateLimitPerMinute: number;
      };
  session: {
    secrets: string[];
    idleMs: number;
    absoluteMs: number;
    secure: boolean;
    redisUrl?: string;
  };
  live: {
    /** The event endpoint, when live changes come from one. */
    events?: {
      connectionString?: string;
      namespace?: { host: string; eventHubName: string; endpointAddress?: string };
      consumerGroup: string;
      echoTimeoutMs: number;
    };
    poll: { intervalMs: number; queriesPerMinute: number };
    streams: Settings['live']['streams'];
  };
  storage: Settings['storage'];
  rollouts: Settings['rollouts'];
}

export class ConfigError extends Error {}

/** The schema's input: each variable set at its place. */
function sectionsOf(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, Record<string, unknown>> = {
    hub: {},
    server: {},
    auth: { mode: 'local' },
    session: {},
    live: { events: {}, poll: {}, streams: {} },
    storage: {},
    rollouts: {},
  };
  for (const [name, path] of Object.entries(VARIABLES)) {
    const value = env[name];
    if (value === undefined) continue;
    const keys = path.split('.');
    let node: Record<string, unknown> = input;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return input;
}

/** The variable a schema issue is about (the nearest one along its path). */
function variableOf(path: readonly PropertyKey[]): string {
  for (let length = path.length; length > 0; length--) {
    const name = variableAt.get(path.slice(0, length).join('.') as (typeof VARIABLES)[Variable]);
    if (name) return name;
  }
  return 'environment';
}

/** Parses the environment, listing every problem at once by variable name. */
export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const parsed = SettingsSchema.safeParse(sectionsOf(env));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `  ${variableOf(i.path)}: ${i.message}`);
  throw new ConfigError(
    `Twinscope BFF configuration is not valid:\n${[...new Set(problems)].join('\n')}`,
  );
}

const ConnectionFileSchema = z.object({
  hostName: z.string().optional(),
  mqttPort: z.number().optional(),
  amqpsPort: z.number().optional(),
  serviceConnectionString: z.string().optional(),
  caCertFile: z.string().optional(),
  eventHubs: z.object({ connectionString: z.string().optional() }).optional(),
  throttle: z.string().nullable().optional(),
});

/** Reads the files the settings name; every missing or malformed one is listed at once. */
class Files {
  readonly problems: string[] = [];

  text(variable: string, file: string | undefined): string | undefined {
    if (file === undefined) return undefined;
    if (!existsSync(file)) {
      this.problems.push(`  ${variable}: ${file} does not exist`);
      return undefined;
    }
    return readFileSync(file, 'utf8');
  }

  connectionFile(file: string | undefined): z.output<typeof ConnectionFileSchema> | undefined {
    const text = this.text('TWINSCOPE_HUB_CONNECTION_FILE', file);
    if (text === undefined) return undefined;
    try {
      return ConnectionFileSchema.parse(JSON.parse(text));
    } catch {
      this.problems.push(
        `  TWINSCOPE_HUB_CONNECTION_FILE: ${file} is not the emulator's connection.json`,
      );
      return undefined;
    }
  }
}

/** A tier setting, where a value the model does not know (an emulator's custom limits) means S1. */
function hubQuotaFrom(text: string): HubQuota | undefined {
  try {
    return parseHubTier(text);
  } catch {
    return parseHubTier('S1');
  }
}

/** Parses the environment, then reads the files it names. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const s = parseSettings(env);
  const files = new Files();
  const file = files.connectionFile(s.hub.connectionFile);
  const connectionString = s.hub.connectionString ?? file?.serviceConnectionString;
  const caFile = s.hub.caFile ?? file?.caCertFile;
  let deviceHost = s.hub.deviceHost;
  if (file?.hostName && file.mqttPort)
    deviceHost ??= file.mqttPort === 8883 ? file.hostName : `${file.hostName}:${file.mqttPort}`;
  const entra =
    !connectionString && s.hub.hostName
      ? { hostName: s.hub.hostName, credential: s.hub.credential }
      : undefined;
  if (file && !entra && (!connectionString || !hasParts(connectionString)))
    files.problems.push(
      `  TWINSCOPE_HUB_CONNECTION_FILE: its serviceConnectionString needs HostName, SharedAccessKeyName and SharedAccessKey`,
    );
  const ca = files.text(s.hub.caFile ? 'TWINSCOPE_HUB_CA_FILE' : 'caCertFile', caFile);
  const auth = authConfig(s, files);
  if (files.problems.length > 0)
    throw new ConfigError(
      `Twinscope BFF configuration is not valid:\n${files.problems.join('\n')}`,
    );
  // The emulator says what it throttles like; `null` is no quota at all.
  const tierFromFile = file?.throttle === null ? 'unlimited' : (file?.throttle ?? undefined);
  const quota = hubQuotaFrom(s.hub.tier ?? tierFromFile ?? 'S1');
  const hubQueriesPerMinute = quota ? quota.rates.query.perSecond * 60 : undefined;
  const told = s.live.poll.queriesPerMinute;
  const publicUrl = s.server.publicUrl ?? `http://${s.server.host}:${s.server.port}`;
  return {
    hub: {
      ...(connectionString ? { connectionString } : {}),
      ...(entra ? { entra } : {}),
      ...(ca !== undefined ? { ca } : {}),
      ...(deviceHost ? { deviceHost } : {}),
      ...((s.hub.amqpsPort ?? file?.amqpsPort)
        ? { amqpsPort: (s.hub.amqpsPort ?? file?.amqpsPort)! }
        : {}),
      feedback: s.hub.feedback === 'on',
      timeoutMs: s.hub.timeoutMs,
      ...(quota ? { quota } : {}),
    },
    server: s.server,
    auth,
    session: {
      secrets: s.session.secrets,
      idleMs: s.session.idleMinutes * 60_000,
      absoluteMs: s.session.maxHours * 3_600_000,
      secure: publicUrl.startsWith('https:'),
      ...(s.session.redisUrl ? { redisUrl: s.session.redisUrl } : {}),
    },
    live: {
      ...eventsConfig(s, file?.eventHubs?.connectionString),
      poll: {
        intervalMs: s.live.poll.intervalMs,
        // A quarter of the hub's queries by default, never more than half of them (people
        // need the rest); with no quota, two a second unless told.
        queriesPerMinute: hubQueriesPerMinute
          ? Math.min(
              told ?? Math.max(1, hubQueriesPerMinute / 4),
              Math.max(1, hubQueriesPerMinute / 2),
            )
          : (told ?? 120),
      },
      streams: s.live.streams,
    },
    storage: s.storage,
    rollouts: s.rollouts,
  };
}

function authConfig(s: Settings, files: Files): Config['auth'] {
  const auth = s.auth;
  if (auth.mode === 'local') return auth;
  const publicUrl = s.server.publicUrl ?? `http://${s.server.host}:${s.server.port}`;
  const authority = auth.authority ?? `https://login.microsoftonline.com/${auth.tenantId ?? ''}/`;
  const certificate = files.text('TWINSCOPE_ENTRA_CLIENT_CERT_FILE', auth.clientCertFile);
  const ca = files.text('TWINSCOPE_ENTRA_CA_FILE', auth.caFile);
  return {
    mode: 'entra',
    signIn: {
      clientId: auth.clientId,
      authority: authority.endsWith('/') ? authority : `${authority}/`,
      ...(auth.clientSecret ? { clientSecret: auth.clientSecret } : {}),
      ...(certificate !== undefined ? { clientCertificatePem: certificate } : {}),
      protocol: auth.protocol,
      knownAuthorities: auth.knownAuthorities,
      ...(ca !== undefined ? { ca } : {}),
      redirectUri: `${publicUrl}/auth/callback`,
      postLogoutRedirectUri: `${publicUrl}/`,
    },
    roleMap: auth.roleMap,
    rateLimitPerMinute: auth.rateLimitPerMinute,
  };
}

function eventsConfig(
  s: Settings,
  fromFile: string | undefined,
): { events?: NonNullable<Config['live']['events']> } {
  if (s.live.source === 'polling') return {};
  const e = s.live.events;
  const common = { consumerGroup: e.consumerGroup, echoTimeoutMs: e.echoTimeoutMs };
  const connectionString = e.connectionString ?? fromFile;
  if (connectionString) return { events: { connectionString, ...common } };
  if (e.namespace && e.hubName)
    return {
      events: {
        namespace: {
          host: e.namespace,
          eventHubName: e.hubName,
          ...(e.endpointAddress ? { endpointAddress: e.endpointAddress } : {}),
        },
        ...common,
      },
    };
  if (s.live.source === 'event-hubs')
    throw new ConfigError(
      'TWINSCOPE_LIVE_SOURCE=event-hubs: the connection file has no Event Hubs endpoint; set TWINSCOPE_EVENTS_CONNECTION_STRING',
    );
  return {};
}

/** Every variable the BFF reads (the README's table lists each). */
export const BFF_VARIABLES: readonly string[] = Object.keys(VARIABLES);
