import type { HubQuota } from '@twinscope/hub-quotas';
import { parseHubTier } from '@twinscope/hub-quotas';
import { z } from 'zod';
import type { ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import type { FileStoreSettings as FileUploadConfig } from '../adapters/file-store.ts';
import type { SignInSettings } from '../adapters/sign-in-client.ts';
import type { TelemetryConfig } from '../telemetry/setup.ts';
import { Files } from './files.ts';
import { hasParts, SettingsSchema, type Settings } from './schema.ts';
import { BFF_VARIABLES, inputOf, variableOf } from './variables.ts';

export { BFF_VARIABLES };

/**
 * The BFF's configuration: the environment parsed by the settings schema, then resolved
 * (the files it names read, defaults that depend on other settings taken) in the same
 * schema, so every problem, in a variable or in a file, is listed at once by variable name,
 * and the configuration's type is the schema's output.
 */

export class ConfigError extends Error {}

/** A tier setting, where a value the model does not know (an emulator's custom limits) means S1. */
function hubQuotaFrom(text: string): HubQuota | undefined {
  try {
    return parseHubTier(text);
  } catch {
    return parseHubTier('S1');
  }
}

/** The settings resolved: the files they name read, defaults that depend on others taken. */
function resolve(s: Settings, ctx: z.RefinementCtx) {
  const files = new Files(ctx);
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
    files.problem(
      ['hub', 'connectionFile'],
      'its serviceConnectionString needs HostName, SharedAccessKeyName and SharedAccessKey',
    );
  const ca = s.hub.caFile
    ? files.text(['hub', 'caFile'], s.hub.caFile)
    : files.text(['hub', 'connectionFile'], caFile, `its caCertFile ${caFile}`);
  const auth = authConfig(s, files);
  // The emulator says what it throttles like; `null` is no quota at all.
  const tierFromFile = file?.throttle === null ? 'unlimited' : file?.throttle;
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
      ...eventsConfig(s, file?.eventHubs.connectionString, files),
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
    ...fileUploadConfig(s, file?.storage, ca),
    ...provisioningConfig(s, file?.provisioning ?? undefined, ca),
    rollouts: s.rollouts,
    overview: s.overview,
    pnp: s.pnp,
    ...telemetryConfig(s.telemetry),
  };
}

/** Where traces and metrics go, when anywhere (per signal, as the OTLP exporter spec says). */
function telemetryConfig(t: Settings['telemetry']): { telemetry?: TelemetryConfig } {
  if (t.disabled === 'true') return {};
  const base = t.endpoint?.replace(/\/+$/, '');
  const tracesUrl = t.tracesEndpoint ?? (base ? `${base}/v1/traces` : undefined);
  const metricsUrl = t.metricsEndpoint ?? (base ? `${base}/v1/metrics` : undefined);
  if (!tracesUrl && !metricsUrl && !t.azureMonitorConnectionString) return {};
  return {
    telemetry: {
      serviceName: t.serviceName,
      metricIntervalMs: t.metricIntervalMs,
      spanDelayMs: t.spanDelayMs,
      ...(tracesUrl || metricsUrl
        ? {
            otlp: {
              protocol: t.protocol,
              ...(tracesUrl ? { tracesUrl } : {}),
              ...(metricsUrl ? { metricsUrl } : {}),
            },
          }
        : {}),
      ...(t.azureMonitorConnectionString
        ? { azureMonitor: { connectionString: t.azureMonitorConnectionString } }
        : {}),
    },
  };
}

/**
 * Where devices' uploads are read: the storage a variable names, or the emulator's (its
 * connection.json), whose Azurite serves the hub's own certificate, so the hub's CA is
 * trusted for it. None: the file routes say file upload is not configured.
 */
function fileUploadConfig(
  s: Settings,
  fromFile: ConnectionFile['storage'] | undefined,
  hubCa: string | undefined,
): { fileUpload?: FileUploadConfig } {
  const { connectionString, container, timeoutMs } = s.fileUpload;
  if (connectionString) return { fileUpload: { connectionString, container, timeoutMs } };
  if (!fromFile) return {};
  return {
    fileUpload: {
      connectionString: fromFile.connectionString,
      container: fromFile.container,
      timeoutMs,
      ...(hubCa !== undefined ? { ca: hubCa } : {}),
    },
  };
}

export interface ProvisioningConfig {
  connectionString?: string;
  /** Entra access: the service's host name (the hub's credential is used). */
  hostName?: string;
  idScope?: string;
  deviceEndpoint: string;
  ca?: string;
}

/**
 * Which DPS the console manages: one the variables name, or the emulator's (its
 * connection.json), whose certificate is the hub's. None: the pages say so.
 */
function provisioningConfig(
  s: Settings,
  fromFile: ConnectionFile['provisioning'] | undefined,
  hubCa: string | undefined,
): { provisioning?: ProvisioningConfig } {
  const p = s.provisioning;
  if (p.connectionString || p.hostName)
    return {
      provisioning: {
        ...(p.connectionString
          ? { connectionString: p.connectionString }
          : { hostName: p.hostName! }),
        ...(p.idScope ? { idScope: p.idScope } : {}),
        deviceEndpoint: p.deviceEndpoint,
        // A private CA given for the hub is trusted for its provisioning service too.
        ...(hubCa !== undefined ? { ca: hubCa } : {}),
      },
    };
  if (!fromFile) return {};
  return {
    provisioning: {
      connectionString: fromFile.serviceConnectionString,
      idScope: fromFile.idScope,
      deviceEndpoint: fromFile.deviceEndpoint,
      ...(hubCa !== undefined ? { ca: hubCa } : {}),
    },
  };
}

function authConfig(s: Settings, files: Files) {
  const auth = s.auth;
  if (auth.mode === 'local') return auth;
  const publicUrl = s.server.publicUrl ?? `http://${s.server.host}:${s.server.port}`;
  const authority = auth.authority ?? `https://login.microsoftonline.com/${auth.tenantId ?? ''}/`;
  const certificate = files.text(['auth', 'clientCertFile'], auth.clientCertFile);
  const ca = files.text(['auth', 'caFile'], auth.caFile);
  const signIn: SignInSettings = {
    clientId: auth.clientId,
    authority: authority.endsWith('/') ? authority : `${authority}/`,
    ...(auth.clientSecret ? { clientSecret: auth.clientSecret } : {}),
    ...(certificate !== undefined ? { clientCertificatePem: certificate } : {}),
    protocol: auth.protocol,
    knownAuthorities: auth.knownAuthorities,
    ...(ca !== undefined ? { ca } : {}),
    redirectUri: `${publicUrl}/auth/callback`,
    postLogoutRedirectUri: `${publicUrl}/`,
  };
  return {
    mode: 'entra' as const,
    signIn,
    roleMap: auth.roleMap,
    rateLimitPerMinute: auth.rateLimitPerMinute,
  };
}

interface EventsConfig {
  connectionString?: string;
  namespace?: { host: string; eventHubName: string; endpointAddress?: string };
  consumerGroup: string;
  echoTimeoutMs: number;
}

function eventsConfig(
  s: Settings,
  fromFile: string | undefined,
  files: Files,
): { events?: EventsConfig } {
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
    files.problem(
      ['live', 'source'],
      'event-hubs: the connection file has no Event Hubs endpoint; set TWINSCOPE_EVENTS_CONNECTION_STRING',
    );
  return {};
}

export const ConfigSchema = SettingsSchema.transform(resolve);

/** The configuration the BFF runs with. */
export type Config = z.output<typeof ConfigSchema>;

/** Parses the environment and reads the files it names, listing every problem at once. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = ConfigSchema.safeParse(inputOf(env));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `  ${variableOf(i.path)}: ${i.message}`);
  throw new ConfigError(
    `Twinscope BFF configuration is not valid:\n${[...new Set(problems)].join('\n')}`,
  );
}
