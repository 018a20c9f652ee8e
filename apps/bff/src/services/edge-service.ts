import { gunzipSync } from 'node:zlib';
import {
  checkDeploymentManifest,
  edgeDeviceOfScope,
  emptyDeploymentManifest,
  type EdgeModule,
  type EdgeOverview,
  type ModuleLogsQuery,
  type ModuleLogsResponse,
  type SetModulesRequest,
} from '@twinscope/contract';
import {
  isIdentityId,
  isJsonObject,
  objectOf,
  stringOf,
  stripReadOnly,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import { quote } from '../core/hub-query.ts';
import type { CallContext } from '../core/call-context.ts';

const DESIRED = 'properties.desired';
const AGENT = '$edgeAgent';
/** A module that exited with an error this recently, and runs again, is crash-looping. */
const CRASH_LOOP_MS = 10 * 60_000;
/** How long the console waits for the agent's answer to RestartModule and GetModuleLogs. */
const AGENT_TIMEOUT_SECONDS = 30;

/** A twin section's properties, without its `$metadata` and `$version`. */
const propertiesOf = (section: JsonObject) => stripReadOnly(section);

/** Desired against reported, per module, in words an operator reads at a glance. */
export function moduleRows(
  desired: Record<string, unknown>,
  reported: Record<string, unknown>,
): EdgeModule[] {
  const rows: EdgeModule[] = [];
  const add = (
    name: string,
    want: JsonValue | undefined,
    have: JsonValue | undefined,
    system: boolean,
  ) => {
    const spec = isJsonObject(want) ? want : undefined;
    const state = isJsonObject(have) ? have : undefined;
    const desiredStatus = stringOf(spec?.['status']) ?? 'running';
    const runtimeStatus = stringOf(state?.['runtimeStatus']);
    // Running again, but it crashed (a non-zero exit) minutes ago: crash-looping.
    const exitCode = typeof state?.['exitCode'] === 'number' ? state['exitCode'] : 0;
    const exitedAt = Date.parse(stringOf(state?.['lastExitTimeUtc']) ?? '');
    const crashLooping =
      runtimeStatus === 'running' && exitCode !== 0 && Date.now() - exitedAt < CRASH_LOOP_MS;
    let verdict: EdgeModule['state'];
    if (!spec) verdict = 'removing';
    else if (
      runtimeStatus === 'failed' ||
      runtimeStatus === 'backoff' ||
      runtimeStatus === 'unhealthy' ||
      crashLooping
    )
      verdict = 'failed';
    else if (runtimeStatus === desiredStatus)
      verdict = desiredStatus === 'stopped' ? 'stopped' : 'running';
    else verdict = 'pending';
    const number = (key: string) =>
      typeof state?.[key] === 'number' ? (state[key] as number) : undefined;
    const optional = (key: string) =>
      stringOf(state?.[key]) ? { [key]: stringOf(state?.[key])! } : {};
    rows.push({
      name,
      system,
      ...(spec
        ? {
            desired: {
              image: stringOf(objectOf(spec['settings'])['image']) ?? '',
              status: desiredStatus,
              restartPolicy: stringOf(spec['restartPolicy']) ?? 'always',
              ...(stringOf(spec['version']) ? { version: stringOf(spec['version'])! } : {}),
            },
          }
        : {}),
      ...(state
        ? {
            reported: {
              runtimeStatus: runtimeStatus ?? 'unknown',
              restartCount: number('restartCount') ?? 0,
              ...(number('exitCode') !== undefined ? { exitCode: number('exitCode')! } : {}),
              ...(stringOf(objectOf(state['settings'])['image'])
                ? { image: stringOf(objectOf(state['settings'])['image'])! }
                : {}),
              ...optional('statusDescription'),
              ...optional('lastStartTimeUtc'),
              ...optional('lastExitTimeUtc'),
              ...optional('lastRestartTimeUtc'),
            },
          }
        : {}),
      state: verdict,
    });
  };
  const desiredSystem = objectOf(desired['systemModules']);
  const reportedSystem = objectOf(reported['systemModules']);
  for (const name of ['edgeAgent', 'edgeHub'])
    add(name, desiredSystem[name] ?? { type: 'docker' }, reportedSystem[name], true);
  const desiredModules = objectOf(desired['modules']);
  const reportedModules = objectOf(reported['modules']);
  const names = [
    ...new Set([...Object.keys(desiredModules), ...Object.keys(reportedModules)]),
  ].sort();
  for (const name of names) add(name, desiredModules[name], reportedModules[name], false);
  return rows;
}

/**
 * IoT Edge devices: what is deployed against what the agent reports, module restarts and
 * logs through `$edgeAgent`'s direct methods, and "Set modules" (the deployment on one
 * device), checked against the manifest's schema before anything is sent.
 */
export class EdgeService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly audit: AuditTrail,
  ) {}

  private async edgeDevice(deviceId: string, context?: CallContext) {
    const device = await this.hub.getDevice(deviceId, context);
    if (!device.iotEdge)
      throw new AppError('bad_request', `${deviceId} is not an IoT Edge device.`);
    return device;
  }

  async overview(deviceId: string, context?: CallContext): Promise<EdgeOverview> {
    const device = await this.edgeDevice(deviceId, context);
    const scope = device.deviceScope;
    const [agentTwin, hubTwin, agent, agentRows, childRows, configurations] = await Promise.all([
      this.hub.getTwin(deviceId, AGENT, context),
      this.hub.getTwin(deviceId, '$edgeHub', context),
      this.hub.getModule(deviceId, AGENT, context),
      this.hub.query(
        `SELECT * FROM devices.modules WHERE deviceId = ${quote(deviceId)} AND moduleId = '${AGENT}'`,
        { pageSize: 1 },
        context,
      ),
      scope
        ? this.hub.query(
            `SELECT deviceId, capabilities FROM devices WHERE deviceScope = ${quote(scope)} OR ARRAY_CONTAINS(parentScopes, ${quote(scope)})`,
            { pageSize: 200 },
            context,
          )
        : Promise.resolve({ items: [] }),
      this.hub.listConfigurations(context),
    ]);
    const desired = agentTwin.properties.desired;
    const reported = agentTwin.properties.reported;
    const modules = moduleRows(desired, reported);

    const marks = objectOf(objectOf(agentRows.items[0])['configurations']);
    const deployments = configurations.flatMap((config) => {
      const modulesContent = objectOf(objectOf(config['content'])['modulesContent']);
      const status = stringOf(objectOf(marks[String(config['id'])])['status']);
      if (
        Object.keys(modulesContent).length === 0 ||
        (status !== 'Applied' && status !== 'Targeted')
      )
        return [];
      return [
        {
          id: String(config['id']),
          priority: typeof config['priority'] === 'number' ? config['priority'] : 0,
          targetCondition: stringOf(config['targetCondition']) ?? '',
          layered: objectOf(modulesContent[AGENT])[DESIRED] === undefined,
          status: status as 'Applied' | 'Targeted',
        },
      ];
    });

    const desiredVersion = typeof desired['$version'] === 'number' ? desired['$version'] : 0;
    const reportedVersion =
      typeof reported['lastDesiredVersion'] === 'number'
        ? reported['lastDesiredVersion']
        : undefined;
    const status = objectOf(reported['lastDesiredStatus']);
    const code = typeof status['code'] === 'number' ? status['code'] : undefined;
    const connected = agent.connectionState === 'Connected';
    const failing = modules.filter((m) => m.state === 'failed');
    const pending = modules.filter((m) => m.state === 'pending' || m.state === 'removing');
    let summary: string;
    if (reportedVersion === undefined)
      summary = connected
        ? 'The IoT Edge runtime is connected but has not reported yet.'
        : 'The IoT Edge runtime has never reported: start it on the device with its connection string.';
    else if (reportedVersion < desiredVersion)
      summary = `Deployment version ${desiredVersion} waits for the agent, which last processed version ${reportedVersion}.`;
    else if (code !== 200)
      summary = `The agent did not apply version ${reportedVersion} (${code ?? 'no code'}): ${stringOf(status['description']) || 'no reason given'}.`;
    else if (failing.length > 0)
      summary = `${failing.length} module${failing.length === 1 ? '' : 's'} failing: ${failing
        .map(
          (m) =>
            `${m.name} (${m.reported?.exitCode !== undefined ? `exit code ${m.reported.exitCode}, ` : ''}restarted ${m.reported?.restartCount ?? 0} times)`,
        )
        .join(', ')}.`;
    else if (pending.length > 0)
      summary = `Applied version ${reportedVersion}; waiting for ${pending.map((m) => m.name).join(', ')}.`;
    else summary = `Applied version ${reportedVersion}: every module as deployed.`;
    // What an offline agent last reported may no longer hold.
    if (!connected && reportedVersion !== undefined)
      summary = `The IoT Edge runtime is offline; as it last reported: ${summary}`;

    // What "Set modules" starts from: the system modules' desired properties, and each
    // deployed module's own.
    // A device never deployed to starts from the runtime alone.
    const manifest: JsonObject =
      Object.keys(propertiesOf(desired)).length === 0
        ? emptyDeploymentManifest().modulesContent
        : {
            [AGENT]: { [DESIRED]: propertiesOf(desired) },
            $edgeHub: { [DESIRED]: propertiesOf(hubTwin.properties.desired) },
          };
    const deployed = Object.keys(objectOf(desired['modules'])).filter((name) => isIdentityId(name));
    const moduleTwins = await Promise.all(
      deployed.map((name) => this.hub.getTwin(deviceId, name, context).catch(() => undefined)),
    );
    moduleTwins.forEach((twin, index) => {
      const values = twin ? propertiesOf(twin.properties.desired) : {};
      if (Object.keys(values).length > 0) manifest[deployed[index]!] = { [DESIRED]: values };
    });

    return {
      deviceId,
      ...(scope ? { deviceScope: scope } : {}),
      parents: (device.parentScopes ?? []).flatMap((parent) => {
        const id = edgeDeviceOfScope(parent);
        return id ? [id] : [];
      }),
      children: childRows.items
        .map((row) => objectOf(row))
        .filter((row) => row['deviceId'] !== deviceId)
        .map((row) => ({
          deviceId: String(row['deviceId']),
          iotEdge: objectOf(row['capabilities'])['iotEdge'] === true,
        })),
      runtime: {
        connected,
        ...(agent.lastActivityTime ? { lastActivityTime: agent.lastActivityTime } : {}),
        ...(stringOf(objectOf(reported['version'])['version'])
          ? { version: stringOf(objectOf(reported['version'])['version'])! }
          : {}),
      },
      deployment: {
        desiredVersion,
        ...(reportedVersion !== undefined ? { reportedVersion } : {}),
        ...(code !== undefined
          ? { status: { code, description: stringOf(status['description']) ?? '' } }
          : {}),
        summary,
        healthy:
          connected &&
          reportedVersion === desiredVersion &&
          code === 200 &&
          failing.length + pending.length === 0,
      },
      modules,
      manifest: { modulesContent: manifest },
      deployments,
    };
  }

  /** Calls one of `$edgeAgent`'s methods; a refusal comes back in the agent's own words. */
  private async callAgent(
    deviceId: string,
    methodName: string,
    payload: JsonObject,
    context?: CallContext,
  ): Promise<unknown> {
    let answer: { status: number; payload: unknown };
    try {
      answer = await this.hub.invokeMethod(
        { deviceId, moduleId: AGENT },
        {
          methodName,
          payload,
          responseTimeoutInSeconds: AGENT_TIMEOUT_SECONDS,
          connectTimeoutInSeconds: 0,
        },
        context,
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'device_offline')
        throw new AppError(
          'device_offline',
          `The IoT Edge runtime of ${deviceId} is offline ($edgeAgent is not connected): start it on the device, then try again.`,
        );
      throw error;
    }
    if (answer.status >= 200 && answer.status < 300) return answer.payload;
    const message = stringOf(objectOf(answer.payload)['message']) ?? `status ${answer.status}`;
    throw new AppError(
      answer.status < 500 ? 'bad_request' : 'hub_error',
      `The Edge agent refused ${methodName}: ${message}`,
    );
  }

  private checkModuleName(module: string): void {
    if (!isIdentityId(module) || module.startsWith('$'))
      throw new AppError(
        'validation_failed',
        `${JSON.stringify(module.slice(0, 60))} is not a module name.`,
      );
  }

  async restartModule(
    deviceId: string,
    module: string,
    actor: Actor,
    context?: CallContext,
  ): Promise<void> {
    this.checkModuleName(module);
    await this.edgeDevice(deviceId, context);
    await audited(
      this.audit,
      {
        actor,
        action: 'edge.restart-module',
        target: { deviceId, moduleId: AGENT },
        change: { module },
      },
      () =>
        this.callAgent(deviceId, 'RestartModule', { schemaVersion: '1.0', id: module }, context),
    );
  }

  async logs(
    deviceId: string,
    module: string,
    query: ModuleLogsQuery,
    context?: CallContext,
  ): Promise<ModuleLogsResponse> {
    this.checkModuleName(module);
    await this.edgeDevice(deviceId, context);
    const filter: JsonObject = { tail: query.tail };
    if (query.since) filter['since'] = query.since;
    if (query.filter) filter['regex'] = query.filter;
    const answer = await this.callAgent(
      deviceId,
      'GetModuleLogs',
      {
        schemaVersion: '1.0',
        items: [{ id: `^${module.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, filter }],
        encoding: 'gzip',
        contentType: 'json',
      },
      context,
    );
    const entry = Array.isArray(answer) ? objectOf(answer[0]) : {};
    if (entry['id'] === undefined)
      throw new AppError('not_found', `The Edge agent of ${deviceId} has no module ${module}.`);
    let lines: unknown;
    try {
      const bytes = stringOf(entry['payloadBytes']);
      lines = JSON.parse(
        bytes
          ? gunzipSync(Buffer.from(bytes, 'base64')).toString('utf8')
          : (stringOf(entry['payload']) ?? '[]'),
      );
    } catch {
      throw new AppError(
        'hub_error',
        `The Edge agent of ${deviceId} answered logs that are not JSON lines.`,
      );
    }
    return {
      lines: (Array.isArray(lines) ? lines : []).map((raw) => {
        const line = objectOf(raw);
        return {
          at: stringOf(line['timestamp']) ?? '',
          level: typeof line['loglevel'] === 'number' ? line['loglevel'] : 6,
          text: stringOf(line['text']) ?? '',
        };
      }),
    };
  }

  async setModules(
    deviceId: string,
    request: SetModulesRequest,
    actor: Actor,
    context?: CallContext,
  ): Promise<void> {
    const problems = checkDeploymentManifest(request);
    if (problems.length > 0)
      throw new AppError(
        'validation_failed',
        `The deployment manifest is not one the hub and the Edge agent take: ${problems[0]!.path ? `${problems[0]!.path}: ` : ''}${problems[0]!.message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
        { violations: problems },
      );
    await this.edgeDevice(deviceId, context);
    const content = request.modulesContent;
    const modules = Object.keys(objectOf(objectOf(objectOf(content[AGENT])[DESIRED])['modules']));
    await audited(
      this.audit,
      {
        actor,
        action: 'edge.set-modules',
        target: { deviceId, moduleId: AGENT },
        change: { modules },
      },
      () => this.hub.applyModulesContent(deviceId, content, context),
    );
  }
}
