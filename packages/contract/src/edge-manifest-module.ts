import { isJsonObject, type JsonValue } from '@twinscope/twin';
import { isCreateOptions, RESTART_POLICIES } from './edge-manifest.ts';
import type { Found } from './edge-manifest-problem.ts';

const MAX_STARTUP_ORDER = 4294967295;

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

/**
 * One module of `$edgeAgent`'s desired properties, system or custom: a Docker image with
 * create options, a status, a restart policy (system modules may leave both out), a startup
 * order and environment variables. edgeAgent itself has no status, policy or order.
 */
export function checkModule(
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
