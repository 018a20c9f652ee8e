// A deployment as the simulated agent reads it from `$edgeAgent`'s desired properties: its
// checks (those of the agent's config parser), each module's spec and runtime state. Pure.
import { isCreateOptions, RESTART_POLICIES } from '@twinscope/contract';
import { isJsonObject, type JsonObject } from '@twinscope/twin';

export interface ModuleSpec extends JsonObject {
  type: string;
  settings: { image: string; createOptions?: string };
}

/** A module's runtime state, as the agent reports it. */
export interface ModuleState {
  runtimeStatus: 'unknown' | 'backoff' | 'running' | 'stopped' | 'failed';
  statusDescription?: string;
  exitCode?: number;
  lastStartTimeUtc?: string;
  lastExitTimeUtc?: string;
  restartCount: number;
  lastRestartTimeUtc?: string;
}

/** A deployment the agent refuses, with the status code it reports for it. */
export class DeploymentError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The agent's own checks of a deployment (EdgeAgentConnection and the config parser). */
export function readDeployment(desired: JsonObject): {
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
export function envOf(spec: JsonObject, name: string): string | undefined {
  const env = spec['env'];
  const entry = isJsonObject(env) ? env[name] : undefined;
  const value = isJsonObject(entry) ? entry['value'] : undefined;
  return value === undefined || value === null ? undefined : String(value);
}
