import { existsSync, readFileSync } from 'node:fs';
import { parseHubTier, type HubQuota } from '@twinscope/hub-quotas';
import { z } from 'zod';
import { DEFAULT_ROLE_MAP, parseRoleMap, type RoleMap } from './auth/roles.ts';
import type { SignInSettings } from './adapters/sign-in-client.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const EnvSchema = z.object({
  TWINSCOPE_HUB_CONNECTION_STRING: z.string().optional(),
  /** The emulator's connection.json, instead of a connection string and CA file. */
  TWINSCOPE_HUB_CONNECTION_FILE: z.string().optional(),
  TWINSCOPE_HUB_CA_FILE: z.string().optional(),
  /** Entra access to the hub instead of a shared key: the hub's host name … */
  TWINSCOPE_HUB_HOST_NAME: z.string().optional(),
  /** … and which credential (@azure/identity) the BFF uses for it. */
  TWINSCOPE_HUB_CREDENTIAL: z
    .enum(['default', 'managed-identity', 'workload-identity', 'environment'])
    .default('default'),
  /** Where devices and modules connect (`host[:port]`), for module connection strings. */
  TWINSCOPE_HUB_DEVICE_HOST: z.string().optional(),
  TWINSCOPE_HOST: z.string().default('127.0.0.1'),
  TWINSCOPE_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TWINSCOPE_STATIC_DIR: z.string().optional(),
  /** `local`: one operator on loopback, no sign-in. `entra`: Microsoft Entra ID sign-in. */
  TWINSCOPE_AUTH_MODE: z.enum(['local', 'entra']).default('local'),
  /** Where browsers reach Twinscope (for the sign-in redirect URI); default http://HOST:PORT. */
  TWINSCOPE_PUBLIC_URL: z.url().optional(),
  /** Local mode: more `host[:port]` names to answer besides loopback (comma-separated). */
  TWINSCOPE_ALLOWED_HOSTS: z.string().default(''),
  TWINSCOPE_ENTRA_TENANT_ID: z.string().optional(),
  TWINSCOPE_ENTRA_CLIENT_ID: z.string().optional(),
  TWINSCOPE_ENTRA_CLIENT_SECRET: z.string().optional(),
  /** PEM file with the app registration's certificate and private key, instead of a secret. */
  TWINSCOPE_ENTRA_CLIENT_CERT_FILE: z.string().optional(),
  /** Defaults to https://login.microsoftonline.com/<tenant>/; a local OIDC provider in dev. */
  TWINSCOPE_ENTRA_AUTHORITY: z.url().optional(),
  TWINSCOPE_ENTRA_PROTOCOL: z.enum(['aad', 'oidc']).default('aad'),
  TWINSCOPE_ENTRA_KNOWN_AUTHORITIES: z.string().default(''),
  TWINSCOPE_ENTRA_CA_FILE: z.string().optional(),
  /** App-role value → Twinscope role, e.g. Twinscope.Admin=Admin,… */
  TWINSCOPE_ROLE_MAP: z.string().default(DEFAULT_ROLE_MAP),
  /** Signs session cookies; several, comma-separated, to rotate (the first signs). */
  TWINSCOPE_SESSION_SECRET: z.string().optional(),
  TWINSCOPE_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .min(1)
    .max(24 * 60)
    .default(60),
  TWINSCOPE_SESSION_MAX_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /** Sessions in Redis (redis://…), shared by BFF replicas; in memory when unset. */
  TWINSCOPE_REDIS_URL: z.string().optional(),
  /** Express `trust proxy`: hops (1) or addresses, when a TLS proxy sits in front. */
  TWINSCOPE_TRUST_PROXY: z.string().optional(),
  TWINSCOPE_AUTH_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(30),
  /** The audit trail (JSON lines, appended and flushed before each answer). */
  TWINSCOPE_AUDIT_FILE: z.string().default('twinscope-audit.jsonl'),
  /** The local operator's role: Reader, Operator or Admin. */
  TWINSCOPE_LOCAL_ROLE: z.enum(['Reader', 'Operator', 'Admin']).default('Admin'),
  /** Where live changes come from: Event Hubs when configured (auto), or always polling. */
  TWINSCOPE_LIVE_SOURCE: z.enum(['auto', 'event-hubs', 'polling']).default('auto'),
  /** The hub's built-in Event Hubs-compatible endpoint, or a custom Event Hub … */
  TWINSCOPE_EVENTS_CONNECTION_STRING: z.string().optional(),
  /** … or a namespace (`<ns>.servicebus.windows.net`) and event hub read with an Entra credential. */
  TWINSCOPE_EVENTS_NAMESPACE: z.string().optional(),
  TWINSCOPE_EVENTS_HUB_NAME: z.string().optional(),
  /** Where to connect instead of the namespace (a private endpoint, a proxy), as sb://host:port. */
  TWINSCOPE_EVENTS_ENDPOINT_ADDRESS: z.string().optional(),
  TWINSCOPE_EVENTS_CONSUMER_GROUP: z.string().min(1).default('twinscope'),
  /** A write's twin change event not back after this long means no route: poll instead. */
  TWINSCOPE_EVENTS_ECHO_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /**
   * The hub's tier and units (S1, S2x4 …, or unlimited): every budget the BFF keeps comes
   * from its throttles. Default: what the emulator's connection.json says, else one S1 unit.
   */
  TWINSCOPE_HUB_TIER: z.string().optional(),
  /** How long one hub call may take before the BFF gives up on it (a read answers 503). */
  TWINSCOPE_HUB_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /** Live streams one sign-in session (or the local operator) may hold: one per open tab. */
  TWINSCOPE_STREAMS_PER_SESSION: z.coerce.number().int().min(1).max(100_000).default(20),
  /** Live streams one BFF process holds in all. */
  TWINSCOPE_STREAMS_MAX: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  TWINSCOPE_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(600_000).default(5000),
  /** Twin-polling queries the BFF may spend per minute; default a quarter of the hub's. */
  TWINSCOPE_POLL_QUERIES_PER_MINUTE: z.coerce.number().min(1).max(1_000_000).optional(),
  TWINSCOPE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** Rules across variables, checked even when a single variable is malformed. */
function crossChecks(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (
    !env['TWINSCOPE_HUB_CONNECTION_STRING'] &&
    !env['TWINSCOPE_HUB_CONNECTION_FILE'] &&
    !env['TWINSCOPE_HUB_HOST_NAME']
  ) {
    problems.push(
      '  TWINSCOPE_HUB_CONNECTION_STRING: set a service connection string, TWINSCOPE_HUB_HOST_NAME for Entra access, or TWINSCOPE_HUB_CONNECTION_FILE to the emulator connection.json',
    );
  }
  const mode = env['TWINSCOPE_AUTH_MODE'] ?? 'local';
  const host = env['TWINSCOPE_HOST'] ?? '127.0.0.1';
  if (mode === 'local' && !LOOPBACK.has(host)) {
    problems.push(
      '  TWINSCOPE_HOST: the local single-operator mode has no sign-in, so it only listens on loopback (127.0.0.1, ::1)',
    );
  }
  if (mode === 'entra') {
    if (!env['TWINSCOPE_ENTRA_CLIENT_ID'])
      problems.push(
        '  TWINSCOPE_ENTRA_CLIENT_ID: the application (client) id of the app registration',
      );
    if (!env['TWINSCOPE_ENTRA_AUTHORITY'] && !env['TWINSCOPE_ENTRA_TENANT_ID'])
      problems.push(
        '  TWINSCOPE_ENTRA_TENANT_ID: the directory (tenant) id, or set TWINSCOPE_ENTRA_AUTHORITY',
      );
    if (!env['TWINSCOPE_ENTRA_CLIENT_SECRET'] && !env['TWINSCOPE_ENTRA_CLIENT_CERT_FILE'])
      problems.push(
        '  TWINSCOPE_ENTRA_CLIENT_SECRET: a client secret, or TWINSCOPE_ENTRA_CLIENT_CERT_FILE for a certificate',
      );
    const secret = env['TWINSCOPE_SESSION_SECRET']?.split(',')[0] ?? '';
    if (secret.length < 32)
      problems.push(
        '  TWINSCOPE_SESSION_SECRET: at least 32 random characters (it signs session cookies)',
      );
  }
  try {
    parseRoleMap(env['TWINSCOPE_ROLE_MAP'] ?? DEFAULT_ROLE_MAP);
  } catch (error) {
    problems.push(`  TWINSCOPE_ROLE_MAP: ${(error as Error).message}`);
  }
  try {
    if (env['TWINSCOPE_HUB_TIER']) parseHubTier(env['TWINSCOPE_HUB_TIER']);
  } catch (error) {
    problems.push(`  TWINSCOPE_HUB_TIER: ${(error as Error).message}`);
  }
  return problems;
}

export interface Config {
  hub: {
    /** A service connection string, or … */
    connectionString?: string;
    /** … a host name reached with an Entra credential. */
    entra?: {
      hostName: string;
      credential: 'default' | 'managed-identity' | 'workload-identity' | 'environment';
    };
    ca?: string;
    deviceHost?: string;
    /** The deadline of one hub call. */
    timeoutMs: number;
    /** The hub's throttles; none: the hub has no quota (the emulator without --throttle). */
    quota?: HubQuota;
  };
  host: string;
  port: number;
  /** Where browsers reach Twinscope when it is set (sign-in mode): changes may come from it. */
  publicUrl?: string;
  /** Local mode: Host names answered besides the loopback names with the BFF's port. */
  allowedHosts: string[];
  staticDir?: string;
  auth:
    | { mode: 'local'; role: 'Reader' | 'Operator' | 'Admin' }
    | {
        mode: 'entra';
        signIn: SignInSettings;
        roleMap: RoleMap;
        session: {
          secrets: string[];
          idleMs: number;
          absoluteMs: number;
          secure: boolean;
          redisUrl?: string;
        };
        rateLimitPerMinute: number;
      };
  trustProxy?: string | number | boolean;
  auditFile: string;
  poll: { intervalMs: number; queriesPerMinute: number };
  /** Caps on live streams. */
  streams: { perSession: number; max: number };
  /** The Event Hubs feed, when live changes come from an event endpoint. */
  events?: {
    connectionString?: string;
    namespace?: { host: string; eventHubName: string; endpointAddress?: string };
    consumerGroup: string;
    echoTimeoutMs: number;
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {}

/** Parses the environment once, listing every problem at once. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `  ${i.path.join('.') || 'environment'}: ${i.message}`)),
    ...crossChecks(env),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(`Twinscope BFF configuration is not valid:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  let connectionString = e.TWINSCOPE_HUB_CONNECTION_STRING;
  let caFile = e.TWINSCOPE_HUB_CA_FILE;
  let deviceHost = e.TWINSCOPE_HUB_DEVICE_HOST;
  let eventsConnectionString = e.TWINSCOPE_EVENTS_CONNECTION_STRING;
  let tierFromFile: string | undefined;
  if (e.TWINSCOPE_HUB_CONNECTION_FILE) {
    if (!existsSync(e.TWINSCOPE_HUB_CONNECTION_FILE)) {
      throw new ConfigError(
        `TWINSCOPE_HUB_CONNECTION_FILE: ${e.TWINSCOPE_HUB_CONNECTION_FILE} does not exist`,
      );
    }
    const file = JSON.parse(readFileSync(e.TWINSCOPE_HUB_CONNECTION_FILE, 'utf8')) as {
      hostName?: string;
      mqttPort?: number;
      serviceConnectionString?: string;
      caCertFile?: string;
      eventHubs?: { connectionString?: string };
      throttle?: string | null;
    };
    connectionString ??= file.serviceConnectionString;
    // The emulator says what it throttles like; `null` is no quota at all.
    tierFromFile = file.throttle === null ? 'unlimited' : file.throttle;
    eventsConnectionString ??= file.eventHubs?.connectionString;
    caFile ??= file.caCertFile;
    if (file.hostName && file.mqttPort) {
      deviceHost ??= file.mqttPort === 8883 ? file.hostName : `${file.hostName}:${file.mqttPort}`;
    }
  }
  const entra =
    !connectionString && e.TWINSCOPE_HUB_HOST_NAME
      ? { hostName: e.TWINSCOPE_HUB_HOST_NAME, credential: e.TWINSCOPE_HUB_CREDENTIAL }
      : undefined;
  if (
    !entra &&
    (!connectionString ||
      !/HostName=[^;]+/.test(connectionString) ||
      !/SharedAccessKey=[^;]+/.test(connectionString))
  ) {
    throw new ConfigError(
      'The hub connection string needs HostName, SharedAccessKeyName and SharedAccessKey.',
    );
  }
  if (caFile && !existsSync(caFile))
    throw new ConfigError(`TWINSCOPE_HUB_CA_FILE: ${caFile} does not exist`);
  const quota = hubQuotaFrom(e.TWINSCOPE_HUB_TIER ?? tierFromFile ?? 'S1');
  const hubQueriesPerMinute = quota ? quota.rates.query.perSecond * 60 : undefined;
  return {
    hub: {
      ...(connectionString ? { connectionString } : {}),
      ...(entra ? { entra } : {}),
      ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
      ...(deviceHost ? { deviceHost } : {}),
      timeoutMs: e.TWINSCOPE_HUB_TIMEOUT_MS,
      ...(quota ? { quota } : {}),
    },
    host: e.TWINSCOPE_HOST,
    port: e.TWINSCOPE_PORT,
    ...(e.TWINSCOPE_PUBLIC_URL ? { publicUrl: e.TWINSCOPE_PUBLIC_URL.replace(/\/$/, '') } : {}),
    allowedHosts: e.TWINSCOPE_ALLOWED_HOSTS.split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    ...(e.TWINSCOPE_STATIC_DIR ? { staticDir: e.TWINSCOPE_STATIC_DIR } : {}),
    auth:
      e.TWINSCOPE_AUTH_MODE === 'entra'
        ? entraAuth(e)
        : { mode: 'local', role: e.TWINSCOPE_LOCAL_ROLE },
    ...(e.TWINSCOPE_TRUST_PROXY !== undefined
      ? { trustProxy: trustProxy(e.TWINSCOPE_TRUST_PROXY) }
      : {}),
    auditFile: e.TWINSCOPE_AUDIT_FILE,
    ...eventsConfig(e, eventsConnectionString),
    poll: {
      intervalMs: e.TWINSCOPE_POLL_INTERVAL_MS,
      // A quarter of the hub's queries by default, never more than half of them (people need
      // the rest); with no quota, two a second unless told.
      queriesPerMinute: hubQueriesPerMinute
        ? Math.min(
            e.TWINSCOPE_POLL_QUERIES_PER_MINUTE ?? Math.max(1, hubQueriesPerMinute / 4),
            Math.max(1, hubQueriesPerMinute / 2),
          )
        : (e.TWINSCOPE_POLL_QUERIES_PER_MINUTE ?? 120),
    },
    streams: { perSession: e.TWINSCOPE_STREAMS_PER_SESSION, max: e.TWINSCOPE_STREAMS_MAX },
    logLevel: e.TWINSCOPE_LOG_LEVEL,
  };
}

/** A tier setting, where a value the model does not know (an emulator's custom limits) means S1. */
function hubQuotaFrom(text: string): HubQuota | undefined {
  try {
    return parseHubTier(text);
  } catch {
    return parseHubTier('S1');
  }
}

function readFile(variable: string, file: string): string {
  if (!existsSync(file)) throw new ConfigError(`${variable}: ${file} does not exist`);
  return readFileSync(file, 'utf8');
}

function trustProxy(value: string): string | number | boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  return /^\d+$/.test(value) ? Number(value) : value;
}

function entraAuth(e: z.infer<typeof EnvSchema>): Extract<Config['auth'], { mode: 'entra' }> {
  const publicUrl = (
    e.TWINSCOPE_PUBLIC_URL ?? `http://${e.TWINSCOPE_HOST}:${e.TWINSCOPE_PORT}`
  ).replace(/\/$/, '');
  const authority =
    e.TWINSCOPE_ENTRA_AUTHORITY ??
    `https://login.microsoftonline.com/${e.TWINSCOPE_ENTRA_TENANT_ID}/`;
  return {
    mode: 'entra',
    signIn: {
      clientId: e.TWINSCOPE_ENTRA_CLIENT_ID!,
      authority: authority.endsWith('/') ? authority : `${authority}/`,
      ...(e.TWINSCOPE_ENTRA_CLIENT_SECRET ? { clientSecret: e.TWINSCOPE_ENTRA_CLIENT_SECRET } : {}),
      ...(e.TWINSCOPE_ENTRA_CLIENT_CERT_FILE
        ? {
            clientCertificatePem: readFile(
              'TWINSCOPE_ENTRA_CLIENT_CERT_FILE',
              e.TWINSCOPE_ENTRA_CLIENT_CERT_FILE,
            ),
          }
        : {}),
      protocol: e.TWINSCOPE_ENTRA_PROTOCOL,
      knownAuthorities: e.TWINSCOPE_ENTRA_KNOWN_AUTHORITIES.split(',')
        .map((a) => a.trim())
        .filter(Boolean),
      ...(e.TWINSCOPE_ENTRA_CA_FILE
        ? { ca: readFile('TWINSCOPE_ENTRA_CA_FILE', e.TWINSCOPE_ENTRA_CA_FILE) }
        : {}),
      redirectUri: `${publicUrl}/auth/callback`,
      postLogoutRedirectUri: `${publicUrl}/`,
    },
    roleMap: parseRoleMap(e.TWINSCOPE_ROLE_MAP),
    session: {
      secrets: e
        .TWINSCOPE_SESSION_SECRET!.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      idleMs: e.TWINSCOPE_SESSION_IDLE_MINUTES * 60_000,
      absoluteMs: e.TWINSCOPE_SESSION_MAX_HOURS * 3_600_000,
      secure: publicUrl.startsWith('https:'),
      ...(e.TWINSCOPE_REDIS_URL ? { redisUrl: e.TWINSCOPE_REDIS_URL } : {}),
    },
    rateLimitPerMinute: e.TWINSCOPE_AUTH_RATE_LIMIT,
  };
}

function eventsConfig(
  e: z.infer<typeof EnvSchema>,
  connectionString: string | undefined,
): { events?: NonNullable<Config['events']> } {
  if (e.TWINSCOPE_LIVE_SOURCE === 'polling') return {};
  const consumerGroup = e.TWINSCOPE_EVENTS_CONSUMER_GROUP;
  const echoTimeoutMs = e.TWINSCOPE_EVENTS_ECHO_TIMEOUT_MS;
  if (connectionString) return { events: { connectionString, consumerGroup, echoTimeoutMs } };
  if (e.TWINSCOPE_EVENTS_NAMESPACE && e.TWINSCOPE_EVENTS_HUB_NAME) {
    return {
      events: {
        namespace: {
          host: e.TWINSCOPE_EVENTS_NAMESPACE,
          eventHubName: e.TWINSCOPE_EVENTS_HUB_NAME,
          ...(e.TWINSCOPE_EVENTS_ENDPOINT_ADDRESS
            ? { endpointAddress: e.TWINSCOPE_EVENTS_ENDPOINT_ADDRESS }
            : {}),
        },
        consumerGroup,
        echoTimeoutMs,
      },
    };
  }
  if (e.TWINSCOPE_LIVE_SOURCE === 'event-hubs') {
    throw new ConfigError(
      'TWINSCOPE_LIVE_SOURCE=event-hubs: set TWINSCOPE_EVENTS_CONNECTION_STRING, or TWINSCOPE_EVENTS_NAMESPACE and TWINSCOPE_EVENTS_HUB_NAME',
    );
  }
  return {};
}
