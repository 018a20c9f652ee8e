import type { DeviceFilterRequest } from '@twinscope/contract';
import { isJsonObject } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import { buildWhere, inLists, quote } from '../core/hub-query.ts';

/** A rollout's target: a device twin, or one module's twin on it. */
export interface TargetRef {
  deviceId: string;
  moduleId?: string;
}

/** The most targets one rollout takes; past it, the operator narrows the filter. */
export const MAX_TARGETS = 1_000_000;

/** IoT Hub refuses a query text over 8 KB. */
const MAX_QUERY = 7500;

/** Every row of a query, a page of 1000 at a time. */
export async function* rowsOf(
  hub: HubAdapter,
  sql: string,
  context?: CallContext,
): AsyncGenerator<Record<string, unknown>> {
  let continuation: string | undefined;
  do {
    const page = await hub.query(
      sql,
      { pageSize: 1000, ...(continuation ? { continuation } : {}) },
      context,
    );
    for (const row of page.items) if (isJsonObject(row)) yield row;
    continuation = page.continuation;
  } while (continuation);
}

const tooMany = () =>
  new AppError(
    'validation_failed',
    `The filter matches more than ${MAX_TARGETS.toLocaleString('en')} targets; narrow it, or split the change into several rollouts.`,
  );

/** The ids of the devices a list filter matches, in the hub's order. */
export async function deviceIdsOf(
  hub: HubAdapter,
  filter: DeviceFilterRequest,
  context?: CallContext,
): Promise<string[]> {
  const where = buildWhere({ ...filter, tags: filter.tags ?? [] });
  const ids: string[] = [];
  for await (const row of rowsOf(
    hub,
    `SELECT deviceId FROM devices${where ? ` WHERE ${where}` : ''}`,
    context,
  )) {
    if (typeof row['deviceId'] === 'string') ids.push(row['deviceId']);
    if (ids.length > MAX_TARGETS) throw tooMany();
  }
  return ids;
}

/**
 * A module's twins on a set of devices: queries on `devices.modules` with IN lists of the
 * device ids (each under the hub's query length), with an extra condition when given.
 */
export function moduleQueries(
  deviceIds: string[],
  moduleId: string,
  select: string,
  extra?: string,
): string[] {
  const head = `SELECT ${select} FROM devices.modules WHERE `;
  const tail = extra ? ` AND (${extra})` : '';
  return moduleConditions(deviceIds, moduleId, head.length + tail.length).map(
    (condition) => `${head}${condition}${tail}`,
  );
}

/** `moduleId = … AND deviceId IN […]` conditions covering some devices, with room to spare. */
export function moduleConditions(deviceIds: string[], moduleId: string, spare = 400): string[] {
  const head = `moduleId = ${quote(moduleId)} AND deviceId IN `;
  return inLists(deviceIds, MAX_QUERY - spare - head.length).map((list) => `${head}${list}`);
}

/**
 * Every target of a rollout: the devices the filter matches, or with `moduleId`, that
 * module on each of them that has it.
 */
export async function resolveTargets(
  hub: HubAdapter,
  filter: DeviceFilterRequest,
  moduleId: string | undefined,
  context?: CallContext,
): Promise<TargetRef[]> {
  const deviceIds = await deviceIdsOf(hub, filter, context);
  if (moduleId === undefined) return deviceIds.map((deviceId) => ({ deviceId }));
  const targets: TargetRef[] = [];
  for (const sql of moduleQueries(deviceIds, moduleId, 'deviceId, moduleId')) {
    for await (const row of rowsOf(hub, sql, context))
      if (typeof row['deviceId'] === 'string')
        targets.push({ deviceId: row['deviceId'], moduleId });
  }
  return targets;
}

/**
 * Which of some targets meet a condition now (one query per IN list): the success check of
 * a wave. Answers their keys (`device` or `device/module`).
 */
export async function meeting(
  hub: HubAdapter,
  targets: TargetRef[],
  condition: string,
): Promise<Set<string>> {
  const met = new Set<string>();
  const byModule = new Map<string, string[]>();
  for (const target of targets) {
    const key = target.moduleId ?? '';
    const ids = byModule.get(key);
    if (ids) ids.push(target.deviceId);
    else byModule.set(key, [target.deviceId]);
  }
  for (const [moduleId, deviceIds] of byModule) {
    const queries = moduleId
      ? moduleQueries(deviceIds, moduleId, 'deviceId, moduleId', condition)
      : inLists(deviceIds, MAX_QUERY - 60 - condition.length).map(
          (list) => `SELECT deviceId FROM devices WHERE (${condition}) AND deviceId IN ${list}`,
        );
    for (const sql of queries)
      for await (const row of rowsOf(hub, sql))
        if (typeof row['deviceId'] === 'string')
          met.add(moduleId ? `${row['deviceId']}/${moduleId}` : row['deviceId']);
  }
  return met;
}

export const targetKey = (target: TargetRef): string =>
  target.moduleId ? `${target.deviceId}/${target.moduleId}` : target.deviceId;
