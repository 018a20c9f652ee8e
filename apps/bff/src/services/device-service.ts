import type {
  DeviceDetail,
  DeviceListQuery,
  DeviceListResponse,
  DeviceSummary,
  ModuleDetail,
  ModuleListResponse,
} from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { twinFromHub } from '../adapters/twin-mapping.ts';
import { countQuery, deviceQuery, moduleCountQueries } from './device-query.ts';

const MODULE_COUNT_PAGE_LIMIT = 250;

function summary(raw: unknown): DeviceSummary {
  const twin = twinFromHub(raw);
  const item = raw as { capabilities?: { iotEdge?: boolean } };
  return {
    deviceId: twin.deviceId,
    status: twin.status ?? 'enabled',
    connectionState: twin.connectionState ?? 'Disconnected',
    ...(twin.lastActivityTime ? { lastActivityTime: twin.lastActivityTime } : {}),
    tags: twin.tags,
    version: twin.version,
    etag: twin.etag,
    iotEdge: item.capabilities?.iotEdge === true,
  };
}

export class DeviceService {
  constructor(private readonly hub: HubAdapter) {}

  async list(request: DeviceListQuery): Promise<DeviceListResponse> {
    const tags =
      request.tag === undefined ? [] : Array.isArray(request.tag) ? request.tag : [request.tag];
    const filter = {
      ...(request.prefix ? { prefix: request.prefix } : {}),
      tags,
      ...(request.where ? { where: request.where } : {}),
    };
    const sql = deviceQuery(filter);
    const firstPage = request.continuation === undefined;
    const [page, total] = await Promise.all([
      this.hub.query(sql, {
        pageSize: request.pageSize,
        ...(request.continuation ? { continuation: request.continuation } : {}),
      }),
      firstPage ? this.hub.query(countQuery(filter), {}) : Promise.resolve(undefined),
    ]);
    const items = page.items.map(summary);
    if (items.length > 0 && items.length <= MODULE_COUNT_PAGE_LIMIT) {
      const counts = new Map<string, number>();
      for (const sqlText of moduleCountQueries(items.map((d) => d.deviceId))) {
        let continuation: string | undefined;
        do {
          const modules = await this.hub.query(sqlText, {
            pageSize: 1000,
            ...(continuation ? { continuation } : {}),
          });
          for (const row of modules.items as { deviceId: string }[])
            counts.set(row.deviceId, (counts.get(row.deviceId) ?? 0) + 1);
          continuation = modules.continuation;
        } while (continuation);
      }
      for (const item of items) item.moduleCount = counts.get(item.deviceId) ?? 0;
    }
    const totalRow = total?.items[0] as { total?: number } | undefined;
    return {
      items,
      ...(page.continuation ? { continuation: page.continuation } : {}),
      ...(typeof totalRow?.total === 'number' ? { totalCount: totalRow.total } : {}),
      query: sql,
    };
  }

  async device(deviceId: string): Promise<DeviceDetail> {
    const [device, twin] = await Promise.all([
      this.hub.getDevice(deviceId),
      this.hub.getTwin(deviceId),
    ]);
    return { device, twin };
  }

  async modules(deviceId: string): Promise<ModuleListResponse> {
    return { items: await this.hub.getModules(deviceId) };
  }

  async module(deviceId: string, moduleId: string): Promise<ModuleDetail> {
    const [module, twin] = await Promise.all([
      this.hub.getModule(deviceId, moduleId),
      this.hub.getTwin(deviceId, moduleId),
    ]);
    return { module, twin };
  }
}
