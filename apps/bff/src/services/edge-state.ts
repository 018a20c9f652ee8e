import type { EdgeModule, EdgeOverview } from '@twinscope/contract';
import { isJsonObject, objectOf, stringOf, type JsonObject, type JsonValue } from '@twinscope/twin';

/**
 * An IoT Edge device's state as an operator reads it, from \`$edgeAgent\`'s twin: each module
 * deployed against what the agent reports, the deployment in one line, and the automatic
 * deployments that target it. Pure, so each rule has its own test.
 */

export const AGENT = '$edgeAgent';
export const DESIRED = 'properties.desired';
/** A module that exited with an error this recently, and runs again, is crash-looping. */
const CRASH_LOOP_MS = 10 * 60_000;

/**
 * A module the agent reports failed, backing off, unhealthy, or running again after it
 * crashed (a non-zero exit) minutes ago: crash-looping.
 */
export function moduleFailing(state: JsonObject): boolean {
  const runtimeStatus = stringOf(state['runtimeStatus']);
  const exitCode = typeof state['exitCode'] === 'number' ? state['exitCode'] : 0;
  const exitedAt = Date.parse(stringOf(state['lastExitTimeUtc']) ?? '');
  const crashLooping =
    runtimeStatus === 'running' && exitCode !== 0 && Date.now() - exitedAt < CRASH_LOOP_MS;
  return (
    runtimeStatus === 'failed' ||
    runtimeStatus === 'backoff' ||
    runtimeStatus === 'unhealthy' ||
    crashLooping
  );
}

/** The names of the modules (system ones included) the agent reports failing. */
export function failingModules(reported: JsonObject): string[] {
  const failing: string[] = [];
  for (const group of ['systemModules', 'modules'])
    for (const [name, state] of Object.entries(objectOf(reported[group])))
      if (isJsonObject(state) && moduleFailing(state)) failing.push(name);
  return failing;
}

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
    let verdict: EdgeModule['state'];
    if (!spec) verdict = 'removing';
    else if (state && moduleFailing(state)) verdict = 'failed';
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

/** The deployment's state in one line, and whether it is healthy. */
export function deploymentState(
  desired: JsonObject,
  reported: JsonObject,
  modules: EdgeModule[],
  connected: boolean,
): EdgeOverview['deployment'] {
  const desiredVersion = typeof desired['$version'] === 'number' ? desired['$version'] : 0;
  const reportedVersion =
    typeof reported['lastDesiredVersion'] === 'number' ? reported['lastDesiredVersion'] : undefined;
  const status = objectOf(reported['lastDesiredStatus']);
  const code = typeof status['code'] === 'number' ? status['code'] : undefined;
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

  return {
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
  };
}

/** The automatic IoT Edge deployments that target the device, as \`$edgeAgent\`'s marks say. */
export function deploymentsTargeting(
  configurations: JsonObject[],
  marks: JsonObject,
): EdgeOverview['deployments'] {
  return configurations.flatMap((config) => {
    const modulesContent = objectOf(objectOf(config['content'])['modulesContent']);
    const status = stringOf(objectOf(marks[String(config['id'])])['status']);
    if (Object.keys(modulesContent).length === 0 || (status !== 'Applied' && status !== 'Targeted'))
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
}
