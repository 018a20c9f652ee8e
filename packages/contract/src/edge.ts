import { z } from 'zod';
import {
  IDENTITY_ID_PATTERN,
  isJsonObject,
  validateSection,
  type JsonObject,
  type JsonValue,
} from '@twinscope/twin';
import { JsonObjectSchema } from './json.ts';

/**
 * IoT Edge deployment manifests (`{"modulesContent": {"$edgeAgent": …, "$edgeHub": …}}`),
 * checked as the hub and the Edge agent check them, so the console and the BFF refuse the
 * same manifests with the same words before anything is sent.
 */

export interface ManifestProblem {
  /** Where, e.g. `$edgeAgent.modules.sensor.settings.createOptions`. */
  path: string;
  /** The same place as keys and indexes from the manifest's root, for an editor's markers. */
  location: (string | number)[];
  message: string;
}

/** A problem found, at a module and the keys inside its desired properties. */
interface Found {
  at: (string | number)[];
  message: string;
}

const DESIRED = 'properties.desired';
const ROUTE_NAME = /^[^.$# ]+$/;
const ROUTE = /^\s*FROM\s+\S[\s\S]*\s+INTO\s+\S/i;
const MAX_STARTUP_ORDER = 4294967295;

/** The IoT Edge device a scope names (`ms-azure-iot-edge://{deviceId}-{generationId}`). */
export function edgeDeviceOfScope(scope: string): string | undefined {
  return /^ms-azure-iot-edge:\/\/(.+)-\d+$/.exec(scope)?.[1];
}

/** A restart policy an IoT Edge module may have. */
export const RESTART_POLICIES = ['never', 'on-failure', 'on-unhealthy', 'always'] as const;

/** A custom module of a deployment: a Docker image, running, always restarted. */
export function dockerModule(image: string, env: Record<string, string> = {}): JsonObject {
  return {
    version: '1.0',
    type: 'docker',
    status: 'running',
    restartPolicy: 'always',
    settings: { image, createOptions: '{}' },
    ...(Object.keys(env).length > 0
      ? { env: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, { value }])) }
      : {}),
  };
}

/** Docker create options as a deployment carries them: a string holding a JSON object. */
export function isCreateOptions(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return isJsonObject(JSON.parse(value));
  } catch {
    return false;
  }
}

/**
 * A deployment manifest: the runtime (agent and edgeHub 1.5, one upstream route) and these
 * custom modules; with none, what a new IoT Edge device starts from in the editor.
 */
export function emptyDeploymentManifest(modules: JsonObject = {}): {
  modulesContent: JsonObject;
} {
  return {
    modulesContent: {
      $edgeAgent: {
        [DESIRED]: {
          schemaVersion: '1.1',
          runtime: { type: 'docker', settings: { minDockerVersion: 'v1.25' } },
          systemModules: {
            edgeAgent: {
              type: 'docker',
              settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.5' },
            },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: { image: 'mcr.microsoft.com/azureiotedge-hub:1.5' },
            },
          },
          modules,
        },
      },
      $edgeHub: {
        [DESIRED]: {
          schemaVersion: '1.1',
          routes: { upstream: 'FROM /messages/* INTO $upstream' },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
    },
  };
}

function checkImageSettings(
  settings: JsonValue | undefined,
  where: string[],
  problems: Found[],
): void {
  if (!isJsonObject(settings)) {
    problems.push({ at: [...where, 'settings'], message: 'settings is an object with an image.' });
    return;
  }
  if (typeof settings['image'] !== 'string' || !settings['image'].trim())
    problems.push({ at: [...where, 'settings', 'image'], message: 'Give the container image.' });
  const createOptions = settings['createOptions'];
  if (createOptions !== undefined && !isCreateOptions(createOptions))
    problems.push({
      at: [...where, 'settings', 'createOptions'],
      message:
        'createOptions is a string holding a JSON object (Docker create options), e.g. "{\\"HostConfig\\":{}}".',
    });
}

function checkModule(
  name: string,
  spec: JsonValue,
  where: string[],
  problems: Found[],
  system: boolean,
): void {
  if (!isJsonObject(spec)) {
    problems.push({ at: where, message: 'A module is an object.' });
    return;
  }
  if (spec['type'] !== 'docker')
    problems.push({ at: [...where, 'type'], message: 'type is "docker".' });
  checkImageSettings(spec['settings'], where, problems);
  if (name === 'edgeAgent') {
    if (spec['startupOrder'] !== undefined)
      problems.push({ at: [...where, 'startupOrder'], message: 'edgeAgent has no startupOrder.' });
    return;
  }
  const status = spec['status'];
  if (status !== undefined ? status !== 'running' && status !== 'stopped' : !system)
    problems.push({ at: [...where, 'status'], message: 'status is "running" or "stopped".' });
  const policy = spec['restartPolicy'];
  if (
    policy !== undefined
      ? !(RESTART_POLICIES as readonly string[]).includes(String(policy))
      : !system
  )
    problems.push({
      at: [...where, 'restartPolicy'],
      message: `restartPolicy is one of ${RESTART_POLICIES.join(', ')}.`,
    });
  const order = spec['startupOrder'];
  if (
    order !== undefined &&
    !(
      typeof order === 'number' &&
      Number.isInteger(order) &&
      order >= 0 &&
      order <= MAX_STARTUP_ORDER
    )
  )
    problems.push({
      at: [...where, 'startupOrder'],
      message: `startupOrder is a whole number from 0 to ${MAX_STARTUP_ORDER}.`,
    });
  const env = spec['env'];
  if (env !== undefined) {
    if (!isJsonObject(env))
      problems.push({ at: [...where, 'env'], message: 'env maps names to {"value": …}.' });
    else
      for (const [variable, value] of Object.entries(env))
        if (!isJsonObject(value) || value['value'] === undefined)
          problems.push({
            at: [...where, 'env', variable],
            message: 'Each variable is {"value": "…"}.',
          });
  }
}

function checkAgent(desired: JsonObject, problems: Found[]): void {
  const at = ['$edgeAgent'];
  if (desired['schemaVersion'] !== '1.0' && desired['schemaVersion'] !== '1.1')
    problems.push({ at: [...at, 'schemaVersion'], message: 'schemaVersion is "1.0" or "1.1".' });
  const runtime = desired['runtime'];
  if (!isJsonObject(runtime) || runtime['type'] !== 'docker' || !isJsonObject(runtime['settings']))
    problems.push({
      at: [...at, 'runtime'],
      message: 'runtime is {"type": "docker", "settings": {…}}.',
    });
  const system = desired['systemModules'];
  if (!isJsonObject(system)) {
    problems.push({
      at: [...at, 'systemModules'],
      message: 'systemModules holds edgeAgent and edgeHub.',
    });
  } else
    for (const name of ['edgeAgent', 'edgeHub'])
      if (system[name] === undefined)
        problems.push({ at: [...at, 'systemModules', name], message: `Give ${name}.` });
      else checkModule(name, system[name], [...at, 'systemModules', name], problems, true);
  const modules = desired['modules'] ?? {};
  if (!isJsonObject(modules)) {
    problems.push({ at: [...at, 'modules'], message: 'modules maps module names to modules.' });
    return;
  }
  for (const [name, spec] of Object.entries(modules)) {
    if (!IDENTITY_ID_PATTERN.test(name) || name.startsWith('$'))
      problems.push({
        at: [...at, 'modules', name],
        message: `"${name.slice(0, 60)}" is not a module name the hub takes: up to 128 letters, digits and - : . + % _ # * ? ! ( ) , = @ ; ', not starting with $.`,
      });
    else if (name === 'edgeAgent' || name === 'edgeHub')
      problems.push({
        at: [...at, 'modules', name],
        message: `${name} is a system module: it belongs in systemModules.`,
      });
    checkModule(name, spec, [...at, 'modules', name], problems, false);
  }
}

function checkHub(desired: JsonObject, problems: Found[]): void {
  const at = ['$edgeHub'];
  if (!['1.0', '1.1', '1.2', '1.3'].includes(String(desired['schemaVersion'])))
    problems.push({ at: [...at, 'schemaVersion'], message: 'schemaVersion is "1.0" to "1.3".' });
  const routes = desired['routes'] ?? {};
  if (!isJsonObject(routes)) {
    problems.push({ at: [...at, 'routes'], message: 'routes maps names to routes.' });
    return;
  }
  for (const [name, route] of Object.entries(routes)) {
    const where = [...at, 'routes', name];
    if (!ROUTE_NAME.test(name))
      problems.push({ at: where, message: 'Route names have no . $ # or spaces.' });
    const text =
      typeof route === 'string' ? route : isJsonObject(route) ? route['route'] : undefined;
    if (typeof text !== 'string' || !ROUTE.test(text))
      problems.push({ at: where, message: 'A route reads FROM <source> … INTO <sink>.' });
    if (isJsonObject(route)) {
      const priority = route['priority'];
      if (
        priority !== undefined &&
        !(Number.isInteger(priority) && Number(priority) >= 0 && Number(priority) <= 9)
      )
        problems.push({ at: [...where, 'priority'], message: 'priority is 0 to 9.' });
      const ttl = route['timeToLiveSecs'];
      if (ttl !== undefined && !(Number.isInteger(ttl) && Number(ttl) >= 0))
        problems.push({
          at: [...where, 'timeToLiveSecs'],
          message: 'timeToLiveSecs is a whole number of seconds.',
        });
    }
  }
}

/**
 * What is wrong with a deployment manifest for one device ("Set modules"): both system
 * modules, the agent's and edgeHub's schema, module names the hub takes, Docker
 * `createOptions` as a string of JSON, routes, and each module's desired properties within
 * the twin's rules and 32 KB. Empty when the hub and the agent would take it.
 */
export function checkDeploymentManifest(manifest: unknown): ManifestProblem[] {
  const problems: Found[] = [];
  if (!isJsonObject(manifest) || !isJsonObject(manifest['modulesContent'])) {
    return [
      {
        path: '',
        location: [],
        message: 'A deployment manifest is {"modulesContent": {"$edgeAgent": …, "$edgeHub": …}}.',
      },
    ];
  }
  const content = manifest['modulesContent'];
  for (const [moduleId, value] of Object.entries(content)) {
    const desired = isJsonObject(value) ? value[DESIRED] : undefined;
    if (!isJsonObject(value) || !isJsonObject(desired)) {
      problems.push({ at: [moduleId], message: `${moduleId} is {"${DESIRED}": {…}}.` });
      continue;
    }
    const extra = Object.keys(value).filter((key) => key !== DESIRED);
    if (extra.length > 0)
      problems.push({
        at: [moduleId],
        message: `Only "${DESIRED}" is set per module here (not ${extra.map((k) => JSON.stringify(k)).join(', ')}).`,
      });
    if (moduleId !== '$edgeAgent' && moduleId !== '$edgeHub' && !IDENTITY_ID_PATTERN.test(moduleId))
      problems.push({
        at: [moduleId],
        message: `"${moduleId.slice(0, 60)}" is not a module name the hub takes.`,
      });
    for (const violation of validateSection('desired', desired))
      problems.push({ at: [moduleId, ...violation.location.slice(2)], message: violation.message });
    if (moduleId === '$edgeAgent') checkAgent(desired, problems);
    if (moduleId === '$edgeHub') checkHub(desired, problems);
  }
  for (const system of ['$edgeAgent', '$edgeHub'])
    if (content[system] === undefined)
      problems.push({
        at: [system],
        message: `Give ${system}: a deployment sets both system modules.`,
      });
  return problems.map(({ at, message }) => ({
    path: at.join('.'),
    // modulesContent.<module>["properties.desired"].<rest>
    location: ['modulesContent', at[0]!, ...(at.length > 1 ? [DESIRED, ...at.slice(1)] : [])],
    message,
  }));
}

export const SetModulesRequestSchema = z.object({ modulesContent: JsonObjectSchema }).strict();
export type SetModulesRequest = z.infer<typeof SetModulesRequestSchema>;

/** One module of an Edge device as the console shows it: what is deployed against what runs. */
export const EdgeModuleSchema = z.object({
  name: z.string(),
  system: z.boolean(),
  /** From `$edgeAgent`'s desired properties; absent when the deployment no longer has it. */
  desired: z
    .object({
      image: z.string(),
      status: z.string(),
      restartPolicy: z.string(),
      version: z.string().optional(),
    })
    .optional(),
  /** From `$edgeAgent`'s reported properties; absent when the agent has not reported it. */
  reported: z
    .object({
      image: z.string().optional(),
      runtimeStatus: z.string(),
      statusDescription: z.string().optional(),
      exitCode: z.number().optional(),
      restartCount: z.number(),
      lastStartTimeUtc: z.string().optional(),
      lastExitTimeUtc: z.string().optional(),
      lastRestartTimeUtc: z.string().optional(),
    })
    .optional(),
  /**
   * running: as desired; pending: deployed but not (yet) reported as desired; failed:
   * failed or crash-looping (backoff); stopped: stopped as desired; removing: reported but no
   * longer deployed.
   */
  state: z.enum(['running', 'pending', 'failed', 'stopped', 'removing']),
});
export type EdgeModule = z.infer<typeof EdgeModuleSchema>;

export const EdgeDeploymentRefSchema = z.object({
  id: z.string(),
  priority: z.number(),
  targetCondition: z.string(),
  /** A layered deployment sets paths on top of a whole one. */
  layered: z.boolean(),
  status: z.enum(['Applied', 'Targeted']),
});

export const EdgeOverviewSchema = z.object({
  deviceId: z.string(),
  deviceScope: z.string().optional(),
  parents: z.array(z.string()),
  children: z.array(z.object({ deviceId: z.string(), iotEdge: z.boolean() })),
  /** `$edgeAgent`'s connection: the runtime is offline when it is not connected. */
  runtime: z.object({
    connected: z.boolean(),
    lastActivityTime: z.string().optional(),
    version: z.string().optional(),
  }),
  deployment: z.object({
    /** The desired `$version` of `$edgeAgent`. */
    desiredVersion: z.number(),
    /** The version the agent last processed, and how that went. */
    reportedVersion: z.number().optional(),
    status: z.object({ code: z.number(), description: z.string() }).optional(),
    /** One line for the operator: applied, pending, or what failed. */
    summary: z.string(),
    healthy: z.boolean(),
  }),
  modules: z.array(EdgeModuleSchema),
  /** What is deployed now, as a manifest "Set modules" starts from. */
  manifest: z.object({ modulesContent: JsonObjectSchema }),
  deployments: z.array(EdgeDeploymentRefSchema),
});
export type EdgeOverview = z.infer<typeof EdgeOverviewSchema>;

export const ModuleLogsQuerySchema = z
  .object({
    tail: z.coerce.number().int().min(1).max(5000).default(200),
    /** Unix seconds, RFC 3339, or a duration back from now (15m, 2h, 1d). */
    since: z
      .string()
      .regex(
        /^(\d+|\d+(\.\d+)?[smhdw]|\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2}))$/,
        'since is Unix seconds, an RFC 3339 time or a duration like 15m.',
      )
      .optional(),
    /** A regex the lines must match. */
    filter: z
      .string()
      .max(200)
      .refine((text) => {
        try {
          new RegExp(text);
          return true;
        } catch {
          return false;
        }
      }, 'filter is not a regular expression.')
      .optional(),
  })
  .strict();
export type ModuleLogsQuery = z.infer<typeof ModuleLogsQuerySchema>;

export const ModuleLogsResponseSchema = z.object({
  lines: z.array(z.object({ at: z.string(), level: z.number(), text: z.string() })),
});
export type ModuleLogsResponse = z.infer<typeof ModuleLogsResponseSchema>;
