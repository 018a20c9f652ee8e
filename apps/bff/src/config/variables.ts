/**
 * Configuration comes from environment variables only (style.md: parsed once, at the edge);
 * each maps to one place in the nested settings schema (schema.ts).
 */

/** Every variable the BFF reads, and where it lands in the settings schema's input. */
export const VARIABLES = {
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
  TWINSCOPE_STORAGE_CONNECTION_STRING: 'fileUpload.connectionString',
  TWINSCOPE_FILE_UPLOAD_CONTAINER: 'fileUpload.container',
  TWINSCOPE_STORAGE_TIMEOUT_MS: 'fileUpload.timeoutMs',
  TWINSCOPE_DPS_CONNECTION_STRING: 'provisioning.connectionString',
  TWINSCOPE_DPS_HOST_NAME: 'provisioning.hostName',
  TWINSCOPE_DPS_ID_SCOPE: 'provisioning.idScope',
  TWINSCOPE_DPS_DEVICE_ENDPOINT: 'provisioning.deviceEndpoint',
  TWINSCOPE_ROLLOUT_CONCURRENCY: 'rollouts.concurrency',
  TWINSCOPE_ROLLOUT_CHECK_MS: 'rollouts.checkMs',
  TWINSCOPE_ROLLOUT_LEASE_SECONDS: 'rollouts.leaseSeconds',
  TWINSCOPE_ROLLOUT_ACTIVE_PER_PERSON: 'rollouts.activePerPerson',
  TWINSCOPE_ROLLOUT_ACTIVE_MAX: 'rollouts.activePerHub',
  TWINSCOPE_OVERVIEW_QUERY_SHARE: 'overview.queryShare',
  TWINSCOPE_OVERVIEW_MIN_INTERVAL_SECONDS: 'overview.minIntervalSeconds',
  TWINSCOPE_MODEL_REPOSITORY: 'pnp.repository',
  TWINSCOPE_MODEL_REPOSITORY_TIMEOUT_MS: 'pnp.timeoutMs',
  // OpenTelemetry's own variables (the exporters also read OTEL_EXPORTER_OTLP_HEADERS,
  // _TIMEOUT and _COMPRESSION, and the resource OTEL_RESOURCE_ATTRIBUTES, as the spec says).
  OTEL_SDK_DISABLED: 'telemetry.disabled',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'telemetry.endpoint',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'telemetry.tracesEndpoint',
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'telemetry.metricsEndpoint',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'telemetry.protocol',
  OTEL_SERVICE_NAME: 'telemetry.serviceName',
  OTEL_METRIC_EXPORT_INTERVAL: 'telemetry.metricIntervalMs',
  OTEL_BSP_SCHEDULE_DELAY: 'telemetry.spanDelayMs',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'telemetry.azureMonitorConnectionString',
} as const;

type Variable = keyof typeof VARIABLES;
const variableAt = new Map(
  Object.entries(VARIABLES).map(([name, path]) => [path, name as Variable]),
);

/** The settings schema's input: each variable set at its place. */
export function inputOf(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const input: Record<string, Record<string, unknown>> = {
    hub: {},
    server: {},
    auth: { mode: 'local' },
    session: {},
    live: { events: {}, poll: {}, streams: {} },
    storage: {},
    fileUpload: {},
    provisioning: {},
    rollouts: {},
    overview: {},
    pnp: {},
    telemetry: {},
  };
  for (const [name, path] of Object.entries(VARIABLES)) {
    const value = env[name];
    if (value === undefined) continue;
    // OpenTelemetry's variables: an empty value means unset, as its specification says.
    if (value === '' && !name.startsWith('TWINSCOPE_')) continue;
    const keys = path.split('.');
    let node: Record<string, unknown> = input;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return input;
}

/** The variable a schema issue is about (the nearest one along its path). */
export function variableOf(path: readonly PropertyKey[]): string {
  for (let length = path.length; length > 0; length--) {
    const name = variableAt.get(path.slice(0, length).join('.') as (typeof VARIABLES)[Variable]);
    if (name) return name;
  }
  return 'environment';
}

/** Every variable the BFF reads (the README's table lists each). */
export const BFF_VARIABLES: readonly string[] = Object.keys(VARIABLES);
