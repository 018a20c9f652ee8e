import { z } from 'zod';
import { JsonObjectSchema } from './json.ts';
import { TwinSchema } from './twin.ts';

export const PAGE_SIZES = [25, 50, 100, 250, 500, 1000] as const;

export const DeviceListQuerySchema = z
  .object({
    pageSize: z.coerce.number().int().min(1).max(1000).default(100),
    continuation: z.string().max(4096).optional(),
    /** Device id prefix. */
    prefix: z.string().max(128).optional(),
    /** `path=value` pairs on tags, e.g. `site=berlin` or `owner.team=ops`. */
    tag: z.union([z.string(), z.array(z.string())]).optional(),
    /** A raw IoT Hub WHERE clause, ANDed with the rest. */
    where: z.string().max(4000).optional(),
  })
  .strict();
export type DeviceListQuery = z.infer<typeof DeviceListQuerySchema>;

export const DeviceSummarySchema = z.object({
  deviceId: z.string(),
  status: z.string(),
  connectionState: z.string(),
  lastActivityTime: z.string().optional(),
  tags: JsonObjectSchema,
  version: z.number(),
  /** The twin's etag. */
  etag: z.string(),
  /** The device identity's etag (bulk enable, disable and delete carry it). */
  deviceEtag: z.string().optional(),
  moduleCount: z.number().optional(),
  /** How many of its modules are connected (as of the count, kept up to 30 s). */
  modulesConnected: z.number().optional(),
  iotEdge: z.boolean(),
});
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;

export const DeviceListResponseSchema = z.object({
  items: z.array(DeviceSummarySchema),
  continuation: z.string().optional(),
  /** Devices matching the filter (first page only; IoT Hub counts cost query quota). */
  totalCount: z.number().optional(),
  /** The IoT Hub query the filter became, so operators can reuse it. */
  query: z.string(),
});
export type DeviceListResponse = z.infer<typeof DeviceListResponseSchema>;

/** A module twin in the fleet's module list (`FROM devices.modules`), with its device. */
export const FleetModuleSchema = z.object({
  deviceId: z.string(),
  moduleId: z.string(),
  connectionState: z.string(),
  lastActivityTime: z.string().optional(),
  tags: JsonObjectSchema,
  /** The module twin's reported properties: what a filter on them reads. */
  reported: JsonObjectSchema,
  version: z.number(),
  etag: z.string(),
  modelId: z.string().optional(),
});
export type FleetModule = z.infer<typeof FleetModuleSchema>;

export const FleetModuleListSchema = z.object({
  items: z.array(FleetModuleSchema),
  continuation: z.string().optional(),
  totalCount: z.number().optional(),
  query: z.string(),
});
export type FleetModuleList = z.infer<typeof FleetModuleListSchema>;

/** A device identity as the console sees it: never its keys. */
export const DeviceIdentitySchema = z.object({
  deviceId: z.string(),
  generationId: z.string(),
  etag: z.string(),
  status: z.string(),
  statusReason: z.string().nullable().optional(),
  connectionState: z.string(),
  connectionStateUpdatedTime: z.string().optional(),
  lastActivityTime: z.string().optional(),
  cloudToDeviceMessageCount: z.number().optional(),
  authenticationType: z.string(),
  iotEdge: z.boolean(),
  /** An IoT Edge device's own scope, or the scope of the Edge device a leaf sits under. */
  deviceScope: z.string().optional(),
  /** The scopes of the IoT Edge devices this device sits under. */
  parentScopes: z.array(z.string()).optional(),
});
export type DeviceIdentity = z.infer<typeof DeviceIdentitySchema>;

export const DeviceDetailSchema = z.object({ device: DeviceIdentitySchema, twin: TwinSchema });
export type DeviceDetail = z.infer<typeof DeviceDetailSchema>;

export const ModuleIdentitySchema = z.object({
  deviceId: z.string(),
  moduleId: z.string(),
  generationId: z.string(),
  etag: z.string(),
  managedBy: z.string().nullable().optional(),
  connectionState: z.string(),
  connectionStateUpdatedTime: z.string().optional(),
  lastActivityTime: z.string().optional(),
  authenticationType: z.string(),
  /** `$edgeAgent` and `$edgeHub` belong to IoT Edge and cannot be changed here. */
  reserved: z.boolean(),
});
export type ModuleIdentity = z.infer<typeof ModuleIdentitySchema>;

export const ModuleListResponseSchema = z.object({ items: z.array(ModuleIdentitySchema) });
export type ModuleListResponse = z.infer<typeof ModuleListResponseSchema>;

export const ModuleDetailSchema = z.object({ module: ModuleIdentitySchema, twin: TwinSchema });
export type ModuleDetail = z.infer<typeof ModuleDetailSchema>;
