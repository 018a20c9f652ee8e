// What the simulated runtime reports, in the real agent's and edgeHub's schemas: `$edgeAgent`'s
// reported properties (its deployment's state, each module's runtime status) and `$edgeHub`'s
// (its routes judged, its clients). Pure: the runtime sends the difference.
import { createHash } from 'node:crypto';
import { isJsonObject, jsonOf, objectOf, type JsonObject } from '@twinscope/twin';
import type { ModuleState } from './edge-deployment.ts';

/** What this simulated agent calls itself in `$edgeAgent`'s reported `version`. */
const AGENT_VERSION = { version: '1.5.0', build: 'twinscope-simulated', commit: 'simulated' };

/** A module as the runtime supervises it: its name, its spec in the deployment, its state. */
export interface ReportedModule {
  name: string;
  spec: JsonObject;
  state: ModuleState;
}

const imageHash = (image: string) => `sha256:${createHash('sha256').update(image).digest('hex')}`;

const withSettings = (spec: JsonObject): JsonObject => {
  const settings = isJsonObject(spec['settings']) ? spec['settings'] : {};
  const image = typeof settings['image'] === 'string' ? settings['image'] : '';
  return { ...spec, settings: { ...settings, imageHash: imageHash(image) } };
};

const stateOf = (state: ModuleState): JsonObject =>
  objectOf(jsonOf({ ...state, statusDescription: state.statusDescription ?? null }));

/** `$edgeAgent`'s reported properties for the deployment it last read and its modules' states. */
export function agentReport(agent: {
  desiredVersion: number;
  lastDesiredStatus: { code: number; description: string };
  system: JsonObject;
  runtime: JsonObject;
  startedAt: string;
  edgeHub: ModuleState;
  modules: Iterable<ReportedModule>;
}): JsonObject {
  const { system, runtime } = agent;
  return {
    schemaVersion: '1.1',
    version: AGENT_VERSION,
    lastDesiredVersion: agent.desiredVersion,
    lastDesiredStatus: agent.lastDesiredStatus,
    runtime: {
      type: 'docker',
      platform: {
        os: 'linux',
        architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
        version: '1.5.0',
      },
      settings: isJsonObject(runtime['settings']) ? runtime['settings'] : {},
    },
    systemModules: {
      edgeAgent: {
        ...withSettings(
          isJsonObject(system['edgeAgent']) ? system['edgeAgent'] : { type: 'docker' },
        ),
        runtimeStatus: 'running',
        lastStartTimeUtc: agent.startedAt,
        restartCount: 0,
      },
      edgeHub: {
        ...withSettings(isJsonObject(system['edgeHub']) ? system['edgeHub'] : { type: 'docker' }),
        ...stateOf(agent.edgeHub),
      },
    },
    modules: Object.fromEntries(
      [...agent.modules].map((module) => [
        module.name,
        { ...withSettings(module.spec), ...stateOf(module.state) },
      ]),
    ),
  };
}

/**
 * `$edgeHub`'s reported properties: whether its desired routes read as routes, and its
 * clients, each module connected while it runs (a module gone from the deployment is gone
 * from the list).
 */
export function edgeHubReport(
  desired: JsonObject,
  deviceId: string,
  modules: Iterable<ReportedModule>,
  startedAt: string,
): JsonObject {
  const routes = isJsonObject(desired['routes']) ? desired['routes'] : {};
  const bad = Object.entries(routes).find(
    ([name, route]) =>
      !/^[^.$# ]+$/.test(name) ||
      !/^\s*FROM\s/i.test(
        typeof route === 'string' ? route : isJsonObject(route) ? String(route['route'] ?? '') : '',
      ),
  );
  const status = bad
    ? {
        code: 400,
        description: `Route ${bad[0]} is not a route: names avoid . $ # and spaces, and routes read FROM … INTO ….`,
      }
    : { code: 200, description: '' };
  return {
    lastDesiredVersion: Number(desired['$version'] ?? 0),
    lastDesiredStatus: status,
    clients: Object.fromEntries(
      [...modules].map((module): [string, JsonObject] => [
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
}
