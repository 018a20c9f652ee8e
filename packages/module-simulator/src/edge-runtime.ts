import deviceSdk from 'azure-iot-device';
import { jsonOf, minimalPatch, objectOf, type JsonObject } from '@twinscope/twin';
import { DeploymentError, readDeployment, type ModuleState } from './edge-deployment.ts';
import { DeviceIdentityClient } from './edge-identity.ts';
import { getModuleLogs, LogsRequestError, ModuleLog, type LogLevel } from './edge-logs.ts';
import { agentReport, edgeHubReport } from './edge-reports.ts';
import { moduleSupervisor, type Supervised } from './edge-supervisor.ts';
import {
  connectionFor,
  runModule,
  TRANSPORT_CTOR,
  type HubPorts,
  type Log,
  type Transport,
} from './module-app.ts';

const { ConnectionString, ModuleClient } = deviceSdk;
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
      TRANSPORT_CTOR[transport],
    );
    await client.setOptions(connection.options);
    client.on('error', (error: Error) => agentLog(`${moduleId} connection: ${error.message}`, 3));
    await client.open();
    return client;
  };

  // ---- modules ----------------------------------------------------------------------

  const modules = new Map<string, Supervised>();
  const { startApp, stopApp } = moduleSupervisor({
    logs,
    agentLog,
    backoff,
    run: async (moduleId, log) =>
      runModule(moduleConnectionString(moduleId, await identity.keyOf(moduleId)), {
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.ports ? { ports: options.ports } : {}),
        transport,
        log,
      }),
    changed: () => scheduleReport(),
    stopped: () => stopped,
  });

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

  const currentReport = (): JsonObject =>
    agentReport({
      desiredVersion,
      lastDesiredStatus,
      system,
      runtime: runtimeSettings,
      startedAt,
      edgeHub: edgeHubState,
      modules: modules.values(),
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
      const id = objectOf(payload)['id'];
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
      const id = objectOf(payload)['correlationId'];
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
          .then(({ status, payload }) => res!.send(status, payload))
          .catch((error: Error) => agentLog(`could not answer ${alias}: ${error.message}`, 3));
      });
  const agentTwin = await agent.getTwin();
  agentSide.twin = agentTwin;
  let applying: Promise<void> = Promise.resolve();
  const applyLatest = () => {
    const desired = objectOf(jsonOf(agentTwin.properties.desired));
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
    const next = edgeHubReport(
      objectOf(hubTwin.properties.desired),
      deviceId,
      modules.values(),
      startedAt,
    );
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
