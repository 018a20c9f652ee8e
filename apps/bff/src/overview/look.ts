import type {
  OverviewBar,
  OverviewDrift,
  OverviewSettings,
  OverviewSnapshot,
} from '@twinscope/contract';
import { isJsonObject, type JsonObject, type JsonValue } from '@twinscope/twin';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { quote } from '../core/hub-query.ts';
import { configurationOf } from '../services/configuration-service.ts';
import { AGENT, failingModules } from '../services/edge-state.ts';

/** Tag values shown as their own bars; the rest are summed as "others". */
export const TAG_BARS = 12;
/** Groups read per page of a GROUP BY (the hub's largest page). */
const GROUP_PAGE = 1000;
const GROUP_PAGES = 10;
/** $edgeAgent twins read per page, and at most this many pages per look. */
const EDGE_PAGE = 200;
const EDGE_PAGES = 5;
/** Failing Edge devices named in the list link (a longer IN list is not a link). */
const LINKED_IDS = 100;

export type LookHub = Pick<HubAdapter, 'query' | 'listConfigurations'>;

/**
 * The queries one look costs before it runs, as far as they are known: connection state,
 * status, the tag, Edge devices, a page of $edgeAgent twins, and three per desired key
 * (on device twins or on module twins).
 */
export function expectedQueries(settings: OverviewSettings): number {
  return 5 + 3 * (settings.driftKeys.length + settings.moduleDriftKeys.length);
}

/** A value as a query literal, when it has one (strings, numbers, booleans). */
function literalOf(value: JsonValue | undefined): string | undefined {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

function labelOf(value: JsonValue | undefined, missing: string): string {
  if (value === undefined || value === null) return missing;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One look at the hub for the overview: a few COUNT and GROUP BY queries (device twins),
 * the $edgeAgent twins a page at a time, and the configurations with their system metrics.
 * Each bar carries the device list condition that lists what it counts. A chart whose
 * query fails is left empty and named in `problems`; the others stand.
 */
export async function lookAtHub(
  hub: LookHub,
  settings: OverviewSettings,
  now: () => number = Date.now,
): Promise<OverviewSnapshot> {
  const started = now();
  let queries = 0;
  const problems: { chart: string; message: string }[] = [];
  const query = async (sql: string, pageSize?: number, continuation?: string) => {
    queries++;
    return hub.query(sql, {
      ...(pageSize ? { pageSize } : {}),
      ...(continuation ? { continuation } : {}),
    });
  };
  // A hub that is down or hung fails every chart alike: after two, the rest are not tried.
  const chart = async <T>(name: string, fallback: T, work: () => Promise<T>): Promise<T> => {
    if (problems.length >= 2) {
      problems.push({ chart: name, message: 'Not counted: the hub failed the charts before it.' });
      return fallback;
    }
    try {
      return await work();
    } catch (error) {
      problems.push({ chart: name, message: (error as Error).message });
      return fallback;
    }
  };
  const count = async (where: string, from = 'devices'): Promise<number> => {
    const row = (await query(`SELECT COUNT() AS n FROM ${from} WHERE ${where}`)).items[0];
    return typeof row?.['n'] === 'number' ? row['n'] : 0;
  };
  /**
   * GROUP BY one attribute: its values with their counts, most first. Every page is read
   * (a tag can have more values than one page holds), so the top ones and the rest are right.
   */
  const groups = async (path: string): Promise<{ value: JsonValue | undefined; n: number }[]> => {
    const sql = `SELECT ${path} AS v, COUNT() AS n FROM devices GROUP BY ${path}`;
    const rows: JsonObject[] = [];
    let continuation: string | undefined;
    let pages = 0;
    do {
      const page = await query(sql, GROUP_PAGE, continuation);
      rows.push(...page.items);
      continuation = page.continuation;
    } while (continuation && ++pages < GROUP_PAGES);
    if (continuation)
      problems.push({
        chart: path,
        message: `More than ${GROUP_PAGE * GROUP_PAGES} values: the rest are not counted.`,
      });
    return rows
      .map((row) => ({ value: row['v'], n: typeof row['n'] === 'number' ? row['n'] : 0 }))
      .sort((a, b) => b.n - a.n);
  };
  const bar = (label: string, n: number, where?: string): OverviewBar => ({
    label,
    count: n,
    ...(where ? { where } : {}),
  });

  const connection = await chart('connection', [] as OverviewBar[], async () => {
    const found = new Map((await groups('connectionState')).map((g) => [g.value, g.n]));
    return ['Connected', 'Disconnected'].map((state) =>
      bar(state, found.get(state) ?? 0, `connectionState = '${state}'`),
    );
  });
  const status = await chart('status', [] as OverviewBar[], async () => {
    const found = new Map((await groups('status')).map((g) => [g.value, g.n]));
    return ['enabled', 'disabled'].map((state) =>
      bar(
        state === 'enabled' ? 'Enabled' : 'Disabled',
        found.get(state) ?? 0,
        `status = '${state}'`,
      ),
    );
  });
  const devices = connection.reduce((sum, b) => sum + b.count, 0);

  const tagPath = `tags.${settings.tag}`;
  const tag = await chart('tag', { key: settings.tag, bars: [], others: 0 }, async () => {
    const all = await groups(tagPath);
    const bars = all.slice(0, TAG_BARS).map(({ value, n }) => {
      const literal = literalOf(value);
      const where =
        value === undefined || value === null
          ? `NOT is_defined(${tagPath})`
          : literal
            ? `${tagPath} = ${literal}`
            : undefined;
      return bar(labelOf(value, `no ${settings.tag}`), n, where);
    });
    const others = all.slice(TAG_BARS).reduce((sum, g) => sum + g.n, 0);
    return { key: settings.tag, bars, others };
  });

  const drift: OverviewDrift[] = [];
  const checked = [
    ...settings.driftKeys.map((key) => ({ key, on: 'devices' as const })),
    ...settings.moduleDriftKeys.map((key) => ({ key, on: 'modules' as const })),
  ];
  for (const { key, on } of checked) {
    const desired = `properties.desired.${key}`;
    const reported = `properties.reported.${key}`;
    const askedWhere = `is_defined(${desired})`;
    const holdsWhere = `${askedWhere} AND ${reported} = ${desired}`;
    const neverWhere = `${askedWhere} AND NOT is_defined(${reported})`;
    const differsWhere = `${askedWhere} AND is_defined(${reported}) AND ${reported} != ${desired}`;
    const from = on === 'modules' ? 'devices.modules' : 'devices';
    const name = on === 'modules' ? `drift modules ${key}` : `drift ${key}`;
    const result = await chart(name, undefined, async () => {
      const asked = await count(askedWhere, from);
      const holds = await count(holdsWhere, from);
      const never = await count(neverWhere, from);
      return {
        key,
        on,
        asked: bar('Asked', asked, askedWhere),
        holds: bar('Holds it', holds, holdsWhere),
        differs: bar('Reports another value', Math.max(0, asked - holds - never), differsWhere),
        neverReported: bar('Never reported', never, neverWhere),
      };
    });
    if (result) drift.push(result);
  }

  const edge = await chart(
    'edge',
    {
      devices: bar('IoT Edge devices', 0),
      failing: bar('With failing modules', 0),
      partial: false,
    },
    async () => {
      const edgeWhere = 'capabilities.iotEdge = true';
      const edgeDevices = await count(edgeWhere);
      const failing: string[] = [];
      let continuation: string | undefined;
      let pages = 0;
      if (edgeDevices > 0) {
        do {
          const page = await query(
            `SELECT deviceId, properties.reported AS reported FROM devices.modules WHERE moduleId = '${AGENT}'`,
            EDGE_PAGE,
            continuation,
          );
          pages++;
          for (const row of page.items) {
            const reported: JsonObject = isJsonObject(row['reported']) ? row['reported'] : {};
            if (typeof row['deviceId'] === 'string' && failingModules(reported).length > 0)
              failing.push(row['deviceId']);
          }
          continuation = page.continuation;
        } while (continuation && pages < EDGE_PAGES);
      }
      const ids = failing.slice(0, LINKED_IDS).map(quote).join(', ');
      return {
        devices: bar('IoT Edge devices', edgeDevices, edgeWhere),
        failing: bar(
          'With failing modules',
          failing.length,
          failing.length > 0 && failing.length <= LINKED_IDS ? `deviceId IN [${ids}]` : undefined,
        ),
        partial: continuation !== undefined,
      };
    },
  );

  const configurations = await chart(
    'configurations',
    [] as OverviewSnapshot['configurations'],
    async () =>
      (await hub.listConfigurations()).map((raw) => {
        const configuration = configurationOf(raw);
        const condition = configuration.targetCondition.trim();
        // A module configuration's condition reads module twins: not a device list.
        const where =
          configuration.kind !== 'module' && condition && condition !== '*' ? condition : undefined;
        return {
          id: configuration.id,
          kind: configuration.kind,
          targeted: configuration.targetedCount ?? 0,
          applied: configuration.appliedCount ?? 0,
          ...(where ? { where } : {}),
        };
      }),
  );

  return {
    takenAt: new Date(started).toISOString(),
    queries,
    tookMs: Math.max(0, Math.round(now() - started)),
    settings,
    devices,
    connection,
    status,
    tag,
    drift,
    edge,
    configurations,
    problems,
  };
}

/** Twins that differ from, or never followed, any checked key (the trend's drift). */
export function driftingOf(snapshot: OverviewSnapshot): number {
  return snapshot.drift.reduce((sum, d) => sum + d.differs.count + d.neverReported.count, 0);
}
