import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const EnvSchema = z.object({
  TWINSCOPE_HUB_CONNECTION_STRING: z.string().optional(),
  /** The emulator's connection.json, instead of a connection string and CA file. */
  TWINSCOPE_HUB_CONNECTION_FILE: z.string().optional(),
  TWINSCOPE_HUB_CA_FILE: z.string().optional(),
  /** Where devices and modules connect (`host[:port]`), for module connection strings. */
  TWINSCOPE_HUB_DEVICE_HOST: z.string().optional(),
  TWINSCOPE_HOST: z.string().default('127.0.0.1'),
  TWINSCOPE_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TWINSCOPE_STATIC_DIR: z.string().optional(),
  TWINSCOPE_AUTH_MODE: z.enum(['local']).default('local'),
  /** The local operator's role: Reader, Operator or Admin. */
  TWINSCOPE_LOCAL_ROLE: z.enum(['Reader', 'Operator', 'Admin']).default('Admin'),
  TWINSCOPE_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(600_000).default(5000),
  /** Twin-polling queries the BFF may spend per minute (an S1 unit allows 20 in all). */
  TWINSCOPE_POLL_QUERIES_PER_MINUTE: z.coerce.number().min(1).max(1_000_000).default(10),
  TWINSCOPE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

/** Rules across variables, checked even when a single variable is malformed. */
function crossChecks(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!env['TWINSCOPE_HUB_CONNECTION_STRING'] && !env['TWINSCOPE_HUB_CONNECTION_FILE']) {
    problems.push(
      '  TWINSCOPE_HUB_CONNECTION_STRING: set a service connection string, or TWINSCOPE_HUB_CONNECTION_FILE to the emulator connection.json',
    );
  }
  const mode = env['TWINSCOPE_AUTH_MODE'] ?? 'local';
  const host = env['TWINSCOPE_HOST'] ?? '127.0.0.1';
  if (mode === 'local' && !LOOPBACK.has(host)) {
    problems.push(
      '  TWINSCOPE_HOST: the local single-operator mode has no sign-in, so it only listens on loopback (127.0.0.1, ::1)',
    );
  }
  return problems;
}

export interface Config {
  hub: { connectionString: string; ca?: string; deviceHost?: string };
  host: string;
  port: number;
  staticDir?: string;
  authMode: 'local';
  localRole: 'Reader' | 'Operator' | 'Admin';
  poll: { intervalMs: number; queriesPerMinute: number };
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
    };
    connectionString ??= file.serviceConnectionString;
    caFile ??= file.caCertFile;
    if (file.hostName && file.mqttPort) {
      deviceHost ??= file.mqttPort === 8883 ? file.hostName : `${file.hostName}:${file.mqttPort}`;
    }
  }
  if (
    !connectionString ||
    !/HostName=[^;]+/.test(connectionString) ||
    !/SharedAccessKey=[^;]+/.test(connectionString)
  ) {
    throw new ConfigError(
      'The hub connection string needs HostName, SharedAccessKeyName and SharedAccessKey.',
    );
  }
  if (caFile && !existsSync(caFile))
    throw new ConfigError(`TWINSCOPE_HUB_CA_FILE: ${caFile} does not exist`);
  return {
    hub: {
      connectionString,
      ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
      ...(deviceHost ? { deviceHost } : {}),
    },
    host: e.TWINSCOPE_HOST,
    port: e.TWINSCOPE_PORT,
    ...(e.TWINSCOPE_STATIC_DIR ? { staticDir: e.TWINSCOPE_STATIC_DIR } : {}),
    authMode: e.TWINSCOPE_AUTH_MODE,
    localRole: e.TWINSCOPE_LOCAL_ROLE,
    poll: {
      intervalMs: e.TWINSCOPE_POLL_INTERVAL_MS,
      queriesPerMinute: e.TWINSCOPE_POLL_QUERIES_PER_MINUTE,
    },
    logLevel: e.TWINSCOPE_LOG_LEVEL,
  };
}
