import type { DryRunRequest, DryRunResponse, RolloutChange } from '@twinscope/contract';
import {
  applyObjectPatch,
  isJsonObject,
  stripReadOnly,
  validateSectionPatch,
  type JsonObject,
} from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { twinRuleError } from '../core/twin-rules.ts';
import type { CallContext } from '../core/call-context.ts';
import type { HubBudget } from '../quota/hub-budget.ts';
import { buildWhere, quote } from '../core/hub-query.ts';
import { deviceIdsOf, moduleConditions } from './targets.ts';

/** A key the query language names without brackets. */
const NAMEABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SAMPLE = 10;

/**
 * The condition a twin meets when it already holds every leaf of the change (a value equal,
 * a null already absent), and its negation written so that a missing key or another type
 * counts as different (a comparison with a missing value is neither true nor false in IoT
 * Hub's queries); or why the query language cannot say (a key it cannot name, an array or
 * object value).
 */
export function holdsCondition(
  change: RolloutChange,
  /** Where each section is in a query: reported properties mirror the desired change. */
  at: { tags: string; desired: string } = { tags: 'tags', desired: 'properties.desired' },
): { where: string; differs: string } | { unknown: string } {
  const conditions: string[] = [];
  const differences: string[] = [];
  const TYPE = { string: 'IS_STRING', number: 'IS_NUMBER', boolean: 'IS_BOOL' } as const;
  const walk = (prefix: string, patch: JsonObject): string | undefined => {
    for (const [key, value] of Object.entries(patch)) {
      if (!NAMEABLE.test(key))
        return `the key "${key}" cannot be named in a query, so twins that already hold it cannot be counted`;
      const path = `${prefix}.${key}`;
      if (isJsonObject(value) && Object.keys(value).length > 0) {
        const problem = walk(path, value);
        if (problem) return problem;
      } else if (value === null) {
        conditions.push(`NOT IS_DEFINED(${path})`);
        differences.push(`IS_DEFINED(${path})`);
      } else if (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      ) {
        const literal = typeof value === 'string' ? quote(value) : JSON.stringify(value);
        conditions.push(`${path} = ${literal}`);
        differences.push(
          `(NOT IS_DEFINED(${path}) OR NOT ${TYPE[typeof value as keyof typeof TYPE]}(${path}) OR ${path} != ${literal})`,
        );
      } else
        return `${path} is set to ${Array.isArray(value) ? 'an array' : 'an empty object'}, which a query cannot compare`;
    }
    return undefined;
  };
  const problem =
    (change.tags && walk(at.tags, change.tags)) ||
    (change.desired && walk(at.desired, change.desired));
  if (problem) return { unknown: problem };
  return {
    where: conditions.length > 0 ? conditions.join(' AND ') : 'true',
    differs: differences.length > 0 ? differences.join(' OR ') : 'false',
  };
}

/** A section as a query returns it, without IoT Hub's bookkeeping. */
const sectionOf = (value: unknown): JsonObject => (isJsonObject(value) ? stripReadOnly(value) : {});

/**
 * A rollout's dry run, in three queries whatever the fleet's size: how many devices the
 * filter matches, how many already hold the change, and some that would change with their
 * touched sections before and after; then how long the writes take at the hub's twin update
 * budget. Nothing is written.
 */
export async function dryRun(
  hub: HubAdapter,
  budget: HubBudget,
  request: DryRunRequest,
  context?: CallContext,
): Promise<DryRunResponse> {
  const { change } = request;
  for (const [section, patch] of [
    ['tags', change.tags],
    ['desired', change.desired],
  ] as const) {
    if (!patch) continue;
    const violations = validateSectionPatch(section, patch);
    if (violations.length > 0) throw twinRuleError(violations);
  }
  let queries = 0;
  const count = async (sql: string) => {
    const page = await hub.query(sql, {}, context);
    queries++;
    const row = page.items[0];
    return isJsonObject(row) && typeof row['n'] === 'number' ? row['n'] : 0;
  };
  // Devices: one query of each kind over the filter. A module of those devices: the
  // devices' ids first, then each kind over `devices.modules` by IN lists of them.
  let scopes: ((extra?: string) => string)[];
  const { moduleId } = request;
  if (moduleId === undefined) {
    const where = buildWhere(request.filter);
    scopes = [
      (extra?: string) => {
        const parts = [where && `(${where})`, extra && `(${extra})`].filter(Boolean);
        return `devices${parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : ''}`;
      },
    ];
  } else {
    const ids = await deviceIdsOf(hub, request.filter, context);
    queries += Math.max(1, Math.ceil(ids.length / 1000));
    scopes = moduleConditions(ids, moduleId).map(
      (condition) => (extra?: string) =>
        `devices.modules WHERE ${condition}${extra ? ` AND (${extra})` : ''}`,
    );
  }
  const sum = async (extra?: string) => {
    let total = 0;
    for (const scope of scopes) total += await count(`SELECT COUNT() AS n FROM ${scope(extra)}`);
    return total;
  };
  const targets = await sum();
  if (change.method) {
    // A call has no before and after: every target is called, at the hub's method budget.
    const rate = budget.rate('method')?.perSecond ?? null;
    return {
      targets,
      unchanged: 0,
      willChange: targets,
      sample: [],
      estimate: {
        twinUpdatesPerSecond: rate,
        seconds: rate === null ? null : Math.ceil(targets / rate),
        queries,
      },
    };
  }
  const holds = holdsCondition(change);
  let unchanged: number | null = null;
  if ('where' in holds && targets > 0) unchanged = await sum(holds.where);
  else if ('where' in holds) unchanged = 0;
  const sample: DryRunResponse['sample'] = [];
  for (const scope of scopes) {
    if (targets === 0 || unchanged === targets || sample.length >= SAMPLE) break;
    const page = await hub.query(
      `SELECT deviceId${moduleId ? ', moduleId' : ''}, tags, properties.desired FROM ${scope('differs' in holds ? holds.differs : undefined)}`,
      { pageSize: SAMPLE - sample.length },
      context,
    );
    queries++;
    for (const item of page.items.slice(0, SAMPLE - sample.length)) {
      if (!isJsonObject(item) || typeof item['deviceId'] !== 'string') continue;
      const before: DryRunResponse['sample'][number]['before'] = {};
      const after: DryRunResponse['sample'][number]['after'] = {};
      if (change.tags) {
        before.tags = sectionOf(item['tags']);
        after.tags = applyObjectPatch(before.tags, change.tags);
      }
      if (change.desired) {
        before.desired = sectionOf(item['desired']);
        after.desired = applyObjectPatch(before.desired, change.desired);
      }
      sample.push({
        deviceId: item['deviceId'],
        ...(moduleId ? { moduleId } : {}),
        before,
        after,
      });
    }
  }
  const willChange = unchanged === null ? null : targets - unchanged;
  const rate = budget.rate('twinUpdate')?.perSecond ?? null;
  return {
    targets,
    unchanged,
    willChange,
    ...('unknown' in holds ? { unknownReason: holds.unknown } : {}),
    sample,
    estimate: {
      twinUpdatesPerSecond: rate,
      seconds: rate === null ? null : Math.ceil((willChange ?? targets) / rate),
      queries,
    },
  };
}
