import { isJsonObject, type JsonObject } from '@twinscope/twin';

/**
 * IoT Edge deployment manifests (`{"modulesContent": {"$edgeAgent": …, "$edgeHub": …}}`):
 * the words the console, the BFF and the module simulator build and read them with. What is
 * wrong with one is `checkDeploymentManifest` (edge-manifest-check.ts).
 */

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
        'properties.desired': {
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
        'properties.desired': {
          schemaVersion: '1.1',
          routes: { upstream: 'FROM /messages/* INTO $upstream' },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
    },
  };
}
