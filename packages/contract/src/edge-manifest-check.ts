import { IDENTITY_ID_PATTERN, isJsonObject, validateSection } from '@twinscope/twin';
import { checkAgent } from './edge-manifest-agent.ts';
import { checkHub } from './edge-manifest-hub.ts';
import {
  DESIRED,
  manifestProblems,
  type Found,
  type ManifestProblem,
} from './edge-manifest-problem.ts';

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
  return manifestProblems(problems);
}
