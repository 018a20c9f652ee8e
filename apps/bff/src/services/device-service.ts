import type {
  DeviceDetail,
  DeviceListQuery,
  DeviceListResponse,
  DeviceSummary,
  FleetModule,
  FleetModuleList,
  ModuleDetail,
  ModuleListResponse,
} from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import type { CallContext } from '../core/call-context.ts';
import { twinFromHub } from '../adapters/twin-mapping.ts';
import {
  countQuery,
  deviceIdQuery,
  deviceQuery,
  moduleCountQueries,
  moduleCountQuery,
  moduleQuery,
  type DeviceFilter,
} from '../core/hub-query.ts';

const MODULE_COUNT_PAGE_LIMIT = 250;
/**
 * Counts are cached this long: a list view costs one hub query (its page) instead of three,
 * and scrolling never re-counts. Queries are the scarcest throttle (20 a minute on S1).
 */
const COUNT_TTL_MS = 30_000;

/** A small time-bounded cache; it empties itself rather than grow past `limit`. */
class Expiring<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly limit: number,
  ) {}

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T, now = Date.now()): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, { value, until: now + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

function summary(raw: unknown): DeviceSummary {
  const twin = twinFromHub(raw);
  const item = raw as { capabilities?: { iotEdge?: boolean }; deviceEtag?: string };
  return {
    deviceId: twin.deviceId,
    status: twin.status ?? 'enabled',
    connectionState: twin.connectionState ?? 'Disconnected',
    ...(twin.lastActivityTime ? { lastActivityTime: twin.lastActivityTime } : {}),
    tags: twin.tags,
    version: twin.version,
    etag: twin.etag,
    ...(typeof item.deviceEtag === 'string' ? { deviceEtag: item.deviceEtag } : {}),
    iotEdge: item.capabilities?.iotEdge === true,
  };
}

function moduleSummary(raw: unknown): FleetModule {
  const twin = twinFromHub(raw);
  return {
    deviceId: twin.deviceId,
    moduleId: twin.moduleId ?? '',
    connectionState: twin.connectionState ?? 'Disconnected',
    ...(twin.lastActivityTime ? { lastActivityTime: twin.lastActivityTime } : {}),
    tags: twin.tags,
    reported: twin.properties.reported,
    version: twin.version,
    etag: twin.etag,
    ...(twin.modelId ? { modelId: twin.modelId } : {}),
  };
}

/** The list's query parameters as a filter: a prefix, tag pairs, a raw clause. */
function filterOf(request: DeviceListQuery): DeviceFilter {
  const tags =
    request.tag === undefined ? [] : Array.isArray(request.tag) ? request.tag : [request.tag];
  return {
    ...(request.prefix ? { prefix: request.prefix } : {}),
    tags,
    ...(request.where ? { where: request.where } : {}),
  };
}

interface ModuleCount {
  total: number;
  connected: number;
}

export class DeviceService {
  private readonly totals = new Expiring<number>(COUNT_TTL_MS, 500);
  /** Per device: its modules, and how many of them are connected. */
  private readonly moduleCounts = new Expiring<ModuleCount>(COUNT_TTL_MS, 50_000);

  constructor(private readonly hub: HubAdapter) {}

  /** A device was created or deleted through this BFF: every kept total is stale. */
  forgetTotals(): void {
    this.totals.clear();
  }

  /** A module was created or deleted through this BFF: its device's count is stale. */
  forgetModuleCount(deviceId: string): void {
    this.moduleCounts.delete(deviceId);
  }

  private async total(
    filter: DeviceFilter,
    context: CallContext,
    sql = countQuery(filter),
  ): Promise<number | undefined> {
    const cached = this.totals.get(sql);
    if (cached !== undefined) return cached;
    const row = (await this.hub.query(sql, {}, context)).items[0] as { total?: number } | undefined;
    if (typeof row?.total !== 'number') return undefined;
    this.totals.set(sql, row.total);
    return row.total;
  }

  /** Module counts for a page of devices: the cached ones free, the rest in one IN query. */
  private async countModules(
    deviceIds: string[],
    context: CallContext,
  ): Promise<Map<string, ModuleCount>> {
    const counts = new Map<string, ModuleCount>();
    const missing: string[] = [];
    for (const id of deviceIds) {
      const cached = this.moduleCounts.get(id);
      if (cached === undefined) missing.push(id);
      else counts.set(id, cached);
    }
    const found = new Map<string, ModuleCount>();
    for (const sqlText of moduleCountQueries(missing)) {
      let continuation: string | undefined;
      do {
        const modules = await this.hub.query(
          sqlText,
          { pageSize: 1000, ...(continuation ? { continuation } : {}) },
          context,
        );
        for (const row of modules.items as { deviceId: string; connectionState?: string }[]) {
          const count = found.get(row.deviceId) ?? { total: 0, connected: 0 };
          count.total++;
          if (row.connectionState === 'Connected') count.connected++;
          found.set(row.deviceId, count);
        }
        continuation = modules.continuation;
      } while (continuation);
    }
    for (const id of missing) {
      const count = found.get(id) ?? { total: 0, connected: 0 };
      counts.set(id, count);
      this.moduleCounts.set(id, count);
    }
    return counts;
  }

  /** A page of a list query, and (on the first page) the total its count query gives. */
  private async pageOf(
    request: DeviceListQuery,
    sql: string,
    count: () => Promise<number | undefined>,
    context: CallContext,
  ) {
    const [page, totalCount] = await Promise.all([
      this.hub.query(
        sql,
        {
          pageSize: request.pageSize,
          ...(request.continuation ? { continuation: request.continuation } : {}),
        },
        context,
      ),
      request.continuation === undefined ? count() : Promise.resolve(undefined),
    ]);
    return { page, totalCount };
  }

  async list(request: DeviceListQuery, context: CallContext): Promise<DeviceListResponse> {
    const filter = filterOf(request);
    const sql = deviceQuery(filter);
    const { page, totalCount } = await this.pageOf(
      request,
      sql,
      () => this.total(filter, context),
      context,
    );
    const items = page.items.map(summary);
    if (items.length > 0 && items.length <= MODULE_COUNT_PAGE_LIMIT) {
      const counts = await this.countModules(
        items.map((d) => d.deviceId),
        context,
      );
      for (const item of items) {
        const count = counts.get(item.deviceId) ?? { total: 0, connected: 0 };
        item.moduleCount = count.total;
        item.modulesConnected = count.connected;
      }
    }
    return {
      items,
      ...(page.continuation ? { continuation: page.continuation } : {}),
      ...(totalCount !== undefined ? { totalCount } : {}),
      query: sql,
    };
  }

  /**
   * The fleet's module twins a filter matches (`SELECT * FROM devices.modules WHERE …`):
   * module rows with their device, a page at a time; the total on the first page.
   */
  async listModules(request: DeviceListQuery, context: CallContext): Promise<FleetModuleList> {
    const filter = filterOf(request);
    const sql = moduleQuery(filter);
    const { page, totalCount } = await this.pageOf(
      request,
      sql,
      () => this.total(filter, context, moduleCountQuery(filter)),
      context,
    );
    return {
      items: page.items.map(moduleSummary),
      ...(page.continuation ? { continuation: page.continuation } : {}),
      ...(totalCount !== undefined ? { totalCount } : {}),
      query: sql,
    };
  }

  /** The ids of the devices a list filter matches, at most `max` (then `capped`). */
  async idsMatching(
    filter: DeviceFilter,
    max: number,
    context: CallContext,
  ): Promise<{ ids: string[]; capped: boolean }> {
    const sql = deviceIdQuery(filter);
    const ids: string[] = [];
    let continuation: string | undefined;
    do {
      const page = await this.hub.query(
        sql,
        { pageSize: 1000, ...(continuation ? { continuation } : {}) },
        context,
      );
      for (const row of page.items as { deviceId?: unknown }[])
        if (typeof row.deviceId === 'string') ids.push(row.deviceId);
      continuation = page.continuation;
    } while (continuation && ids.length <= max);
    return { ids: ids.slice(0, max), capped: ids.length > max || continuation !== undefined };
  }

  async device(deviceId: string, context: CallContext): Promise<DeviceDetail> {
    const [device, twin] = await Promise.all([
      this.hub.getDevice(deviceId, context),
      this.hub.getTwin(deviceId, undefined, context),
    ]);
    return { device, twin };
  }

  async modules(deviceId: string, context: CallContext): Promise<ModuleListResponse> {
    return { items: await this.hub.getModules(deviceId, context) };
  }

  async module(deviceId: string, moduleId: string, context: CallContext): Promise<ModuleDetail> {
    const [module, twin] = await Promise.all([
      this.hub.getModule(deviceId, moduleId, context),
      this.hub.getTwin(deviceId, moduleId, context),
    ]);
    return { module, twin };
  }
}
