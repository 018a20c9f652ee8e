import { IDENTITY_ID_PATTERN, isJsonObject, type JsonObject } from '@twinscope/twin';
import { checkModule } from './edge-manifest-module.ts';
import type { Found } from './edge-manifest-problem.ts';

/**
 * `$edgeAgent`'s desired properties: the schema version, the Docker runtime, both system
 * modules and the custom modules, under names the hub takes.
 */
export function checkAgent(desired: JsonObject, problems: Found[]): void {
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
