import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:https';
import deviceSdk from 'azure-iot-device';
import { isCreateOptions, RESTART_POLICIES } from '@twinscope/contract';
import { isJsonObject, minimalPatch, type JsonObject, type JsonValue } from '@twinscope/twin';
import { getModuleLogs, LogsRequestError, ModuleLog, type LogLevel } from './edge-logs.ts';
import {
  connectionFor,
  runModule,
  TRANSPORT_CTOR,
  type HubPorts,
  type Log,
  type RunningModule,
  type Transport,
} from './module-app.ts';

const { ConnectionString, ModuleClient, SharedAccessSignature } = deviceSdk;
type Client = InstanceType<typeof ModuleClient>;
type Twin = Awaited<ReturnType<Client['getTwin']>>;

export interface EdgeRuntimeOptions {
  ca?: string;
  /** Where the hub listens per protocol, when not on the SDKs' ports (the emulator's). */
  ports?: HubPorts;
  /** The transport of the agent, edgeHub and every module (default MQTT). */
  transport?: Exclude<Transport, 'http'>;
  log: Log;
  /** The first wait before a failed module starts again, doubling up to `maxSeconds`. */
  backoff?: { firstSeconds: number; maxSeconds: number };
}

export interface EdgeRuntime {
  deviceId: string;
  stop(): Promise<void>;
}

/** What this simulated agent calls itself in `$edgeAgent`'s reported `version`. */
const AGENT_VERSION = { version: '1.5.0', build: 'twinscope-simulated', commit: 'simulated' };

/**
 * The Edge device's own credential, as aziot-identityd uses it: module identities are
 * created, keyed and deleted with a device token (`api-version=2017-11-08-preview`, an
 * unquoted `If-Match: *`), never a service credential.
 */
class DeviceIdentityClient {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly deviceId: string,
    private readonly key: string,
    private readonly ca: string | undefined,
  ) {}

  /** A device token, as the device SDK signs one. */
  private token(): string {
    return SharedAccessSignature.create(
      this.host,
      this.deviceId,
      this.key,
      Math.floor(Date.now() / 1000) + 3600,
    ).toString();
  }

  call(method: string, moduleId: string, body?: JsonObject, ifMatch?: string) {
    const path = `/devices/${encodeURIComponent(this.deviceId)}/modules/${encodeURIComponent(moduleId)}?api-version=2017-11-08-preview`;
    return new Promise<{ status: number; body: JsonValue | undefined }>((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: this.token() };
      if (body) headers['Content-Type'] = 'application/json; charset=utf-8';
      if (ifMatch) headers['If-Match'] = ifMatch;
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          headers,
          timeout: 30_000,
          ...(this.ca ? { ca: this.ca } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: JsonValue | undefined;
            try {
              parsed = text ? (JSON.parse(text) as JsonValue) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 400 && status !== 404) {
              const message =
                isJsonObject(parsed) && typeof parsed['Message'] === 'string'
                  ? parsed['Message']
                  : text.slice(0, 300);
              reject(new Error(`${method} module ${moduleId}: ${status} ${message}`));
            } else resolve({ status, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} module ${moduleId}: no answer`)));
      req.on('error', reject);
      if (body) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** The module's key: created, or given keys, when it has none yet. */
  async keyOf(moduleId: string): Promise<string> {
    const current = await this.call('GET', moduleId);
    const auth = isJsonObject(current.body) ? current.body['authentication'] : undefined;
    const symmetric = isJsonObject(auth) ? auth['symmetricKey'] : undefined;
    const existing = isJsonObject(symmetric) ? symmetric['primaryKey'] : undefined;
    if (current.status === 200 && typeof existing === 'string' && existing) return existing;
    const key = randomBytes(32).toString('base64');
    await this.call(
      'PUT',
      moduleId,
      {
        moduleId,
        deviceId: this.deviceId,
        managedBy: 'IotEdge',
        authentication: { type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: key } },
      },
      current.status === 200 ? '*' : undefined,
    );
    return key;
  }
}

interface ModuleSpec extends JsonObject {
  type: string;
  settings: { image: string; createOptions?: string };
}

interface ModuleState {
  runtimeStatus: 'unknown' | 'backoff' | 'running' | 'stopped' | 'failed';
  statusDescription?: string;
  exitCode?: number;
  lastStartTimeUtc?: string;
  lastExitTimeUtc?: string;
  restartCount: number;
  lastRestartTimeUtc?: string;
}

class DeploymentError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The agent's own checks of a deployment (EdgeAgentConnection and the config parser). */
function readDeployment(desired: JsonObject): {
  modules: Map<string, ModuleSpec>;
  system: JsonObject;
  runtime: JsonObject;
} {
  const keys = Object.keys(desired).filter((key) => !key.startsWith('$'));
  if (keys.length === 0)
    throw new DeploymentError(
      417,
      'The device has no deployment yet: its desired properties are empty.',
    );
  const schema = desired['schemaVersion'];
  const version = typeof schema === 'string' ? /^1(?:\.(\d+))?(?:\.(\d+))?$/.exec(schema) : null;
  if (
    !version ||
    Number(version[1] ?? 0) > 1 ||
    (Number(version[1] ?? 0) === 1 && Number(version[2] ?? 0) > 0)
  )
    throw new DeploymentError(
      412,
      `schemaVersion ${JSON.stringify(schema ?? null)} is not one this agent takes (1.0 to 1.1).`,
    );
  const rawModules = desired['modules'] ?? {};
  if (!isJsonObject(rawModules)) throw new DeploymentError(400, 'modules must be an object.');
  const modules = new Map<string, ModuleSpec>();
  for (const [name, spec] of Object.entries(rawModules)) {
    const where = `Module ${name}`;
    if (!isJsonObject(spec)) throw new DeploymentError(400, `${where} must be an object.`);
    if (spec['type'] !== 'docker')
      throw new DeploymentError(
        400,
        `${where}: type must be "docker", not ${JSON.stringify(spec['type'] ?? null)}.`,
      );
    const settings = spec['settings'];
    if (
      !isJsonObject(settings) ||
      typeof settings['image'] !== 'string' ||
      !settings['image'].trim()
    )
      throw new DeploymentError(400, `${where} has no settings.image.`);
    if (settings['createOptions'] !== undefined && !isCreateOptions(settings['createOptions']))
      throw new DeploymentError(
        400,
        `${where}: settings.createOptions must be a string holding a JSON object (Docker's create options).`,
      );
    const status = spec['status'] ?? 'running';
    if (status !== 'running' && status !== 'stopped')
      throw new DeploymentError(400, `${where}: status is running or stopped.`);
    const policy = spec['restartPolicy'] ?? 'always';
    if (typeof policy !== 'string' || !(RESTART_POLICIES as readonly string[]).includes(policy))
      throw new DeploymentError(
        400,
        `${where}: restartPolicy is one of ${RESTART_POLICIES.join(', ')}.`,
      );
    modules.set(name, spec as ModuleSpec);
  }
  const system = isJsonObject(desired['systemModules']) ? desired['systemModules'] : {};
  const runtime = isJsonObject(desired['runtime']) ? desired['runtime'] : {};
  return { modules, system, runtime };
}

/** `env: {"NAME": {"value": "…"}}`, as text. */
function envOf(spec: JsonObject, name: string): string | undefined {
  const env = spec['env'];
  const entry = isJsonObject(env) ? env[name] : undefined;
  const value = isJsonObject(entry) ? entry['value'] : undefined;
  return value === undefined || value === null ? undefined : String(value);
}

const now = () => new Date().toISOString();

/**
 * A simulated IoT Edge runtime on the unmodified device SDK: it keys `$edgeAgent` and
 * `$edgeHub` with the Edge device's own token and connects as both, reads the deployment
 * from `$edgeAgent`'s desired properties, creates the module identities it names (deleting
 * those it no longer names), runs each custom module as the how-to's module app with its own
 * identity, restarts failed ones with back-off, and reports runtime status in `$edgeAgent`'s
 * reported properties in the real agent's schema. `$edgeAgent` answers `ping`,
 * `RestartModule`, `GetModuleLogs` and `GetTaskStatus`. A module whose env sets
 * `SIMULATOR_EXIT_CODE` exits with it after `SIMULATOR_EXIT_AFTER_SECONDS` (3), and so
 * crash-loops as a broken image would.
 */
export async function runEdgeRuntime(
  connectionString: string,
  options: EdgeRuntimeOptions,
): Promise<EdgeRuntime> {
  const {
    HostName: hostField,
    DeviceId: deviceId,
    SharedAccessKey: key,
    ModuleId: moduleField,
  } = ConnectionString.parse(connectionString);
  if (!hostField || !deviceId || !key || moduleField)
    throw new Error(
      'The Edge runtime takes the IoT Edge device’s connection string (HostName, DeviceId, SharedAccessKey).',
    );
  const host = hostField.split(':')[0]!;
  const moduleConnectionString = (moduleId: string, moduleKey: string) =>
    `HostName=${hostField};DeviceId=${deviceId};ModuleId=${moduleId};SharedAccessKey=${moduleKey}`;
  const transport = options.transport ?? 'mqtt';
  const backoff = options.backoff ?? { firstSeconds: 2, maxSeconds: 60 };
  const identity = new DeviceIdentityClient(
    host,
    options.ports?.https ?? 443,
    deviceId,
    key,
    options.ca,
  );
  const logs = new Map<string, ModuleLog>([
    ['edgeAgent', new ModuleLog()],
    ['edgeHub', new ModuleLog()],
  ]);
  const agentLog = (text: string, level: LogLevel = 6) => {
    logs.get('edgeAgent')!.write(text, level);
    options.log(`[${deviceId}/$edgeAgent] ${text}`);
  };
  const startedAt = now();
  let stopped = false;

  const open = async (moduleId: string, moduleKey: string): Promise<Client> => {
    const connection = connectionFor(
      moduleConnectionString(moduleId, moduleKey),
      transport,
      options.ports,
      options.ca,
    );
    const client = ModuleClient.fromConnectionString(
      connection.connectionString,
      TRANSPORT_CTOR[transport] as never,
    );
    await client.setOptions(connection.options);
    client.on('error', (error: Error) => agentLog(`${moduleId} connection: ${error.message}`, 3));
    await client.open();
    return client;
  };

  // ---- modules ----------------------------------------------------------------------

  interface Supervised {
    name: string;
    spec: ModuleSpec;
    state: ModuleState;
    app?: RunningModule;
    timer?: NodeJS.Timeout;
    /** Bumped whenever what is running is torn down, so a late start or exit is ignored. */
    generation: number;
    failures: number;
  }
  const modules = new Map<string, Supervised>();

  const stopApp = async (module: Supervised) => {
    module.generation++;
    clearTimeout(module.timer);
    module.timer = undefined;
    const app = module.app;
    module.app = undefined;
    await app?.stop().catch(() => undefined);
  };

  const exited = (module: Supervised, code: number, why: string) => {
    const log = logs.get(module.name)!;
    log.write(why, 3);
    agentLog(`Module ${module.name} exited with code ${code}`, 3);
    module.state.exitCode = code;
    module.state.lastExitTimeUtc = now();
    const policy = String(module.spec['restartPolicy'] ?? 'always');
    const restarts = policy === 'always' || (policy !== 'never' && code !== 0);
    if (!restarts) {
      module.state.runtimeStatus = code === 0 ? 'stopped' : 'failed';
      module.state.statusDescription = `Module exited with code ${code} and its restartPolicy is ${policy}: ${why}`;
      scheduleReport();
      return;
    }
    const wait = Math.min(
      backoff.maxSeconds,
      backoff.firstSeconds * 2 ** Math.min(module.failures, 16),
    );
    module.failures++;
    module.state.runtimeStatus = 'backoff';
    module.state.statusDescription = `Module exited with code ${code} (${why}); restarting in ${wait} s.`;
    const generation = module.generation;
    module.timer = setTimeout(() => {
      if (module.generation !== generation || stopped) return;
      module.state.restartCount++;
      module.state.lastRestartTimeUtc = now();
      void startApp(module);
    }, wait * 1000);
    scheduleReport();
  };

  const startApp = async (module: Supervised) => {
    const generation = ++module.generation;
    const log = logs.get(module.name)!;
    if (module.spec['status'] === 'stopped') {
      module.state.runtimeStatus = 'stopped';
      module.state.statusDescription = 'Stopped by the deployment (status: stopped).';
      scheduleReport();
      return;
    }
    const image = module.spec.settings.image;
    log.write(`Starting ${module.name} from image ${image}`);
    try {
      const moduleKey = await identity.keyOf(module.name);
      const app = await runModule(moduleConnectionString(module.name, moduleKey), {
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.ports ? { ports: options.ports } : {}),
        transport,
        log: (line) => log.write(line.replace(/^\[[^\]]*\] /, '')),
      });
      if (module.generation !== generation) {
        await app.stop().catch(() => undefined);
        return;
      }
      module.app = app;
    } catch (error) {
      if (module.generation !== generation) return;
      exited(
        module,
        1,
        `could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    module.state.runtimeStatus = 'running';
    module.state.statusDescription = 'running';
    module.state.lastStartTimeUtc = now();
    agentLog(`Module ${module.name} is running (image ${image})`);
    scheduleReport();
    const exitCode = envOf(module.spec, 'SIMULATOR_EXIT_CODE');
    if (exitCode !== undefined) {
      const after = Number(envOf(module.spec, 'SIMULATOR_EXIT_AFTER_SECONDS') ?? 3);
      module.timer = setTimeout(
        () => {
          if (module.generation !== generation || stopped) return;
          const app = module.app;
          module.app = undefined;
          void app?.stop().catch(() => undefined);
          const code = Number.isInteger(Number(exitCode)) ? Number(exitCode) : 1;
          exited(
            module,
            code,
            `fatal: the image ${image} exits with code ${code} (SIMULATOR_EXIT_CODE)`,
          );
        },
        Math.max(0, Number.isFinite(after) ? after : 3) * 1000,
      );
    }
  };

  // ---- reporting --------------------------------------------------------------------

  let desiredVersion = 0;
  let lastDesiredStatus = { code: 406, description: 'The agent has not read a deployment yet.' };
  let system: JsonObject = {};
  let runtimeSettings: JsonObject = {};
  let reported: JsonObject = {};
  let reportTimer: NodeJS.Timeout | undefined;
  let reporting: Promise<void> = Promise.resolve();
  /** `$edgeAgent`'s twin, once connected. */
  const agentSide: { twin?: Twin } = {};
  /** Reports `$edgeHub`'s state, once connected. */
  const hubSide: { report?: () => void } = {};

  const imageHash = (image: string) => `sha256:${createHash('sha256').update(image).digest('hex')}`;
  const withSettings = (spec: JsonObject): JsonObject => {
    const settings = isJsonObject(spec['settings']) ? spec['settings'] : {};
    const image = typeof settings['image'] === 'string' ? settings['image'] : '';
    return { ...spec, settings: { ...settings, imageHash: imageHash(image) } };
  };
  const stateOf = (state: ModuleState): JsonObject =>
    JSON.parse(
      JSON.stringify({ ...state, statusDescription: state.statusDescription ?? null }),
    ) as JsonObject;

  const currentReport = (): JsonObject => ({
    schemaVersion: '1.1',
    version: AGENT_VERSION,
    lastDesiredVersion: desiredVersion,
    lastDesiredStatus,
    runtime: {
      type: 'docker',
      platform: {
        os: 'linux',
        architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        version: '1.5.0',
      },
      settings: isJsonObject(runtimeSettings['settings']) ? runtimeSettings['settings'] : {},
    },
    systemModules: {
      edgeAgent: {
        ...withSettings(
          isJsonObject(system['edgeAgent']) ? system['edgeAgent'] : { type: 'docker' },
        ),
        runtimeStatus: 'running',
        lastStartTimeUtc: startedAt,
        restartCount: 0,
      },
      edgeHub: {
        ...withSettings(isJsonObject(system['edgeHub']) ? system['edgeHub'] : { type: 'docker' }),
        ...stateOf(edgeHubState),
      },
    },
    modules: Object.fromEntries(
      [...modules.values()].map((module) => [
        module.name,
        { ...withSettings(module.spec), ...stateOf(module.state) },
      ]),
    ),
  });

  const report = async () => {
    if (!agentSide.twin || stopped) return;
    const next = currentReport();
    const patch = minimalPatch(reported, next);
    if (Object.keys(patch).length === 0) return;
    const twin = agentSide.twin;
    await new Promise<void>((resolve) =>
      twin.properties.reported.update(patch, (error?: Error) => {
        if (error) agentLog(`could not report: ${error.message}`, 3);
        else reported = next;
        hubSide.report?.();
        resolve();
      }),
    );
  };
  function scheduleReport() {
    if (reportTimer || stopped) return;
    reportTimer = setTimeout(() => {
      reportTimer = undefined;
      reporting = reporting.then(report, report);
    }, 100);
  }

  // ---- deployments ------------------------------------------------------------------

  const edgeHubState: ModuleState = {
    runtimeStatus: 'running',
    restartCount: 0,
    lastStartTimeUtc: startedAt,
    statusDescription: 'running',
  };

  const apply = async (desired: JsonObject) => {
    const version = Number(desired['$version'] ?? 0);
    let deployment;
    try {
      deployment = readDeployment(desired);
    } catch (error) {
      if (!(error instanceof DeploymentError)) throw error;
      agentLog(`Deployment $version ${version} not applied: ${error.message}`, 3);
      desiredVersion = version;
      lastDesiredStatus = { code: error.code, description: error.message };
      scheduleReport();
      return;
    }
    system = deployment.system;
    runtimeSettings = deployment.runtime;
    const failures: string[] = [];
    for (const [name, module] of modules) {
      if (deployment.modules.has(name)) continue;
      agentLog(`Removing module ${name}: the deployment no longer has it`);
      await stopApp(module);
      modules.delete(name);
      logs.delete(name);
      await identity.call('DELETE', name, undefined, '*').catch((error: Error) => {
        failures.push(error.message);
      });
    }
    const order = [...deployment.modules].sort(
      ([, a], [, b]) =>
        Number(a['startupOrder'] ?? 4294967295) - Number(b['startupOrder'] ?? 4294967295),
    );
    for (const [name, spec] of order) {
      const current = modules.get(name);
      if (current && JSON.stringify(current.spec) === JSON.stringify(spec)) continue;
      if (current) {
        agentLog(`Updating module ${name}`);
        await stopApp(current);
      } else agentLog(`Creating module ${name}`);
      const module: Supervised = current ?? {
        name,
        spec,
        state: { runtimeStatus: 'unknown', restartCount: 0 },
        generation: 0,
        failures: 0,
      };
      module.spec = spec;
      module.state = { runtimeStatus: 'unknown', restartCount: 0 };
      module.failures = 0;
      modules.set(name, module);
      if (!logs.has(name)) logs.set(name, new ModuleLog());
      await startApp(module);
    }
    desiredVersion = version;
    lastDesiredStatus =
      failures.length === 0
        ? { code: 200, description: '' }
        : { code: 500, description: failures.join('; ').slice(0, 500) };
    agentLog(`Deployment $version ${version} applied (${deployment.modules.size} modules)`);
    scheduleReport();
  };

  // ---- direct methods ---------------------------------------------------------------

  type Handler = (payload: unknown) => Promise<{ status: number; payload?: unknown }>;
  const failWith = (status: number, message: string) => ({ status, payload: { message } });
  const handlers: Record<string, Handler> = {
    ping: async () => ({ status: 200 }),
    RestartModule: async (payload) => {
      const id = isJsonObject(payload as JsonValue) ? (payload as JsonObject)['id'] : undefined;
      if (typeof id !== 'string' || !id)
        return failWith(400, 'The payload is {"schemaVersion": "1.0", "id": "<module>"}.');
      if (id === 'edgeAgent')
        return failWith(
          400,
          'The simulated runtime does not restart edgeAgent itself: restart the runtime process.',
        );
      if (id === 'edgeHub') {
        edgeHubState.restartCount++;
        edgeHubState.lastRestartTimeUtc = now();
        edgeHubState.lastStartTimeUtc = now();
        logs.get('edgeHub')!.write('Restarted by RestartModule');
        scheduleReport();
        return { status: 200 };
      }
      const module = modules.get(id);
      if (!module) return failWith(500, `Module ${id} is not in this device's deployment.`);
      agentLog(`RestartModule: restarting ${id}`);
      await stopApp(module);
      module.state.exitCode = 0;
      module.state.lastExitTimeUtc = now();
      module.state.restartCount++;
      module.state.lastRestartTimeUtc = now();
      module.failures = 0;
      logs.get(id)!.write('Stopped by RestartModule');
      await startApp(module);
      return { status: 200 };
    },
    GetModuleLogs: async (payload) => {
      try {
        return { status: 200, payload: getModuleLogs(payload, logs) };
      } catch (error) {
        if (error instanceof LogsRequestError) return failWith(400, error.message);
        throw error;
      }
    },
    GetTaskStatus: async (payload) => {
      const id = isJsonObject(payload as JsonValue)
        ? (payload as JsonObject)['correlationId']
        : undefined;
      if (typeof id !== 'string' || !id)
        return failWith(400, 'The payload is {"schemaVersion": "1.0", "correlationId": "<id>"}.');
      // No upload ever starts here (Blob Storage is not reachable), so no task is known.
      return {
        status: 200,
        payload: { status: 'Unknown', message: `No task ${id} on this device.`, correlationId: id },
      };
    },
    UploadModuleLogs: async () =>
      failWith(400, 'The simulated runtime cannot upload logs to Blob Storage: use GetModuleLogs.'),
    UploadSupportBundle: async () =>
      failWith(
        400,
        'The simulated runtime cannot upload a support bundle to Blob Storage: use GetModuleLogs.',
      ),
  };

  // ---- start ------------------------------------------------------------------------

  agentLog(`Starting the simulated IoT Edge runtime for ${deviceId}`);
  const agent = await open('$edgeAgent', await identity.keyOf('$edgeAgent'));
  for (const [name, handler] of Object.entries(handlers))
    for (const alias of new Set([name, name.toLowerCase()]))
      agent.onMethod(alias, (req, res) => {
        handler(req!.payload)
          .catch((error: Error) => failWith(500, error.message))
          .then(({ status, payload }) => res!.send(status, payload as never))
          .catch((error: Error) => agentLog(`could not answer ${alias}: ${error.message}`, 3));
      });
  const agentTwin = await agent.getTwin();
  agentSide.twin = agentTwin;
  let applying: Promise<void> = Promise.resolve();
  const applyLatest = () => {
    const desired = structuredClone(agentTwin.properties.desired) as JsonObject;
    applying = applying
      .then(() => (stopped ? undefined : apply(desired)))
      .catch((error: Error) => agentLog(`applying the deployment failed: ${error.message}`, 3));
  };
  agentTwin.on('properties.desired', () => applyLatest());
  applyLatest();

  const edgeHub = await open('$edgeHub', await identity.keyOf('$edgeHub'));
  const hubTwin = await edgeHub.getTwin();
  logs.get('edgeHub')!.write('edgeHub connected upstream');
  const reportHub = () => {
    const desired = hubTwin.properties.desired as JsonObject;
    const routes = isJsonObject(desired['routes']) ? desired['routes'] : {};
    const bad = Object.entries(routes).find(
      ([name, route]) =>
        !/^[^.$# ]+$/.test(name) ||
        !/^\s*FROM\s/i.test(
          typeof route === 'string'
            ? route
            : isJsonObject(route)
              ? String(route['route'] ?? '')
              : '',
        ),
    );
    const status = bad
      ? {
          code: 400,
          description: `Route ${bad[0]} is not a route: names avoid . $ # and spaces, and routes read FROM … INTO ….`,
        }
      : { code: 200, description: '' };
    // Its clients: each module, connected while it runs (a module gone from the deployment
    // is gone from the list).
    const next: JsonObject = {
      lastDesiredVersion: Number(desired['$version'] ?? 0),
      lastDesiredStatus: status,
      clients: Object.fromEntries(
        [...modules.values()].map((module): [string, JsonObject] => [
          `${deviceId}/${module.name}`,
          module.state.runtimeStatus === 'running'
            ? { status: 'connected', lastConnectTime: module.state.lastStartTimeUtc ?? startedAt }
            : {
                status: 'disconnected',
                lastDisconnectTime: module.state.lastExitTimeUtc ?? startedAt,
              },
        ]),
      ),
    };
    const patch = minimalPatch(hubReported, next);
    if (Object.keys(patch).length === 0 || stopped) return;
    hubTwin.properties.reported.update(patch, (error?: Error) => {
      if (error) logs.get('edgeHub')!.write(`could not report: ${error.message}`, 3);
      else hubReported = next;
    });
  };
  let hubReported: JsonObject = {};
  hubSide.report = reportHub;
  hubTwin.on('properties.desired', reportHub);
  agentLog('Connected as $edgeAgent and $edgeHub');

  return {
    deviceId,
    async stop() {
      stopped = true;
      clearTimeout(reportTimer);
      await applying;
      await Promise.allSettled([...modules.values()].map(stopApp));
      await Promise.allSettled([agent.close(), edgeHub.close()]);
      agentLog('Stopped');
    },
  };
}
