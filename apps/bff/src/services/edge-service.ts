import { gunzipSync } from 'node:zlib';
import {
  checkDeploymentManifest,
  edgeDeviceOfScope,
  emptyDeploymentManifest,
  type EdgeOverview,
  type ModuleLogsQuery,
  type ModuleLogsResponse,
  type SetModulesRequest,
} from '@twinscope/contract';
import { isIdentityId, objectOf, stringOf, stripReadOnly, type JsonObject } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { AppError } from '../core/app-error.ts';
import { quote } from '../core/hub-query.ts';
import { AGENT, DESIRED, deploymentState, deploymentsTargeting, moduleRows } from './edge-state.ts';
import type { CallContext } from '../core/call-context.ts';

/** How long the console waits for the agent's answer to RestartModule and GetModuleLogs. */
const AGENT_TIMEOUT_SECONDS = 30;

/** A twin section's properties, without its `$metadata` and `$version`. */
const propertiesOf = (section: JsonObject) => stripReadOnly(section);

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

    const deployments = deploymentsTargeting(
      configurations,
      objectOf(objectOf(agentRows.items[0])['configurations']),
    );
    const connected = agent.connectionState === 'Connected';
    const deployment = deploymentState(desired, reported, modules, connected);

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
      deployment,
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
