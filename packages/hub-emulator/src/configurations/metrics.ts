// A configuration's reach and results: the rows its target condition selects, its custom
// metric queries counted, and the system metrics (with the hub's own queries) a device or
// module configuration and an IoT Edge deployment report.
import { isJsonObject } from '@twinscope/twin';
import { HubError } from '../errors.ts';
import { allRows } from '../query/engine.ts';
import type { Registry } from '../store/registry.ts';
import { kindOf, type Configuration } from './configuration.ts';

/** The rows a device or module configuration's condition selects. */
export function targetsOf(
  registry: Registry,
  kind: 'device' | 'module',
  condition: string,
): { deviceId: string; moduleId?: string }[] {
  const text = condition.trim();
  if (!text) return [];
  let sql: string;
  if (kind === 'device') {
    sql =
      text === '*' ? 'SELECT deviceId FROM devices' : `SELECT deviceId FROM devices WHERE ${text}`;
  } else {
    const match = /^FROM\s+devices\.modules(\s+WHERE\s+[\s\S]+)?$/i.exec(text);
    if (!match)
      throw new HubError(
        'ArgumentInvalid',
        "A module configuration's targetCondition reads FROM devices.modules WHERE …",
      );
    sql = `SELECT deviceId, moduleId ${text}`;
  }
  return allRows(registry, sql).flatMap((item) =>
    isJsonObject(item) && typeof item['deviceId'] === 'string'
      ? [
          {
            deviceId: item['deviceId'],
            ...(typeof item['moduleId'] === 'string' ? { moduleId: item['moduleId'] } : {}),
          },
        ]
      : [],
  );
}

export function countRows(registry: Registry, sql: string): number {
  return allRows(registry, sql).length;
}

/** A device or module configuration's system metrics, with the hub's queries: targeted, applied. */
export function configurationMetrics(
  config: Configuration,
  targeted: Map<string, number>,
  applied: Map<string, number>,
): Configuration['systemMetrics'] {
  const condition = config.targetCondition.trim();
  return {
    results: {
      targetedCount: targeted.get(config.id) ?? 0,
      appliedCount: applied.get(config.id) ?? 0,
    },
    queries: {
      targetedCount: condition
        ? kindOf(config) === 'module'
          ? `select deviceId, moduleId ${condition}`
          : `select deviceId from devices where ${condition === '*' ? 'true' : condition}`
        : '',
      appliedCount: `select deviceId from devices where configurations.[[${config.id}]].status = 'Applied'`,
    },
  };
}

/** The custom metrics: each query's row count, 0 for a query that fails now. */
export function customMetrics(registry: Registry, config: Configuration): Record<string, number> {
  const results: Record<string, number> = {};
  for (const [name, sql] of Object.entries(config.metrics.queries)) {
    try {
      results[name] = countRows(registry, sql);
    } catch {
      results[name] = 0;
    }
  }
  return results;
}

/**
 * An IoT Edge deployment's system metrics, with the hub's queries: targeted, applied, and
 * what the devices' agents report of it (`lastDesiredVersion` caught up with the desired
 * `$version`, and `lastDesiredStatus.code` 200 or not).
 */
export function deploymentMetrics(
  registry: Registry,
  config: Configuration,
  targeted: Map<string, number>,
  applied: Map<string, number>,
): Configuration['systemMetrics'] {
  const marker = `configurations.[[${config.id}]].status = 'Applied'`;
  const agents = `select deviceId from devices.modules where moduleId = '$edgeAgent' and ${marker}`;
  let succeeded = 0;
  let failed = 0;
  for (const agent of registry.modules()) {
    if (
      agent.moduleId !== '$edgeAgent' ||
      agent.twin.configurations?.[config.id]?.status !== 'Applied'
    )
      continue;
    const reported = agent.twin.reported.values;
    const status = reported['lastDesiredStatus'];
    if (reported['lastDesiredVersion'] !== agent.twin.desired.version || !isJsonObject(status))
      continue;
    if (status['code'] === 200) succeeded++;
    else failed++;
  }
  const caughtUp = 'properties.desired.$version = properties.reported.lastDesiredVersion';
  return {
    results: {
      targetedCount: targeted.get(config.id) ?? 0,
      appliedCount: applied.get(config.id) ?? 0,
      reportedSuccessfulCount: succeeded,
      reportedFailedCount: failed,
    },
    queries: {
      targetedCount: `select deviceId from devices where capabilities.iotEdge = true and (${config.targetCondition.trim() || 'false'})`,
      appliedCount: agents,
      reportedSuccessfulCount: `${agents} and ${caughtUp} and properties.reported.lastDesiredStatus.code = 200`,
      reportedFailedCount: `${agents} and ${caughtUp} and properties.reported.lastDesiredStatus.code != 200`,
    },
  };
}
