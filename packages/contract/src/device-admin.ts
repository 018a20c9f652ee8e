import { z } from 'zod';
import { DeviceIdentitySchema } from './devices.ts';
import { DeviceIdSchema } from './ids.ts';
import { SasAuthenticationSchema, SelfSignedAuthenticationSchema } from './modules.ts';

/** How a new device proves who it is: a module's ways, or a CA-signed certificate. */
export const DeviceAuthenticationSchema = z.discriminatedUnion('type', [
  SasAuthenticationSchema,
  SelfSignedAuthenticationSchema,
  /** A certificate signed by a CA the hub trusts (verified CA certificates). */
  z.object({ type: z.literal('certificateAuthority') }).strict(),
]);
export type DeviceAuthentication = z.infer<typeof DeviceAuthenticationSchema>;

const StatusReason = z.string().max(128, 'A status reason is at most 128 characters.');

export const DeviceCreateRequestSchema = z
  .object({
    deviceId: DeviceIdSchema,
    authentication: DeviceAuthenticationSchema.default({ type: 'sas' }),
    /** An IoT Edge device (it runs $edgeAgent and $edgeHub). */
    iotEdge: z.boolean().default(false),
    status: z.enum(['enabled', 'disabled']).default('enabled'),
    statusReason: StatusReason.optional(),
  })
  .strict();
export type DeviceCreateRequest = z.infer<typeof DeviceCreateRequestSchema>;

/** Changes to a device identity, guarded by its etag. */
export const DeviceUpdateRequestSchema = z
  .object({
    etag: z.string().min(1, "The device's etag is required."),
    status: z.enum(['enabled', 'disabled']).optional(),
    statusReason: StatusReason.nullable().optional(),
    regenerateKey: z.enum(['primary', 'secondary']).optional(),
  })
  .strict()
  .refine((r) => r.status !== undefined || r.regenerateKey !== undefined, {
    message: 'Nothing to change: give status or regenerateKey.',
  });
export type DeviceUpdateRequest = z.infer<typeof DeviceUpdateRequestSchema>;

export const DeviceResponseSchema = z.object({ device: DeviceIdentitySchema });
export type DeviceResponse = z.infer<typeof DeviceResponseSchema>;

/** The bulk registry API takes at most 100 devices per call; the BFF makes the calls. */
export const BULK_DEVICES_MAX = 1000;

export const BulkDeviceRequestSchema = z
  .object({
    action: z.enum(['enable', 'disable', 'delete']),
    devices: z
      .array(z.object({ deviceId: DeviceIdSchema, etag: z.string().min(1) }).strict())
      .min(1, 'Select at least one device.')
      .max(BULK_DEVICES_MAX, `At most ${BULK_DEVICES_MAX} devices at once.`),
    statusReason: StatusReason.optional(),
  })
  .strict()
  .refine((r) => new Set(r.devices.map((d) => d.deviceId)).size === r.devices.length, {
    message: 'A device is listed twice.',
  });
export type BulkDeviceRequest = z.infer<typeof BulkDeviceRequestSchema>;

export const BulkDeviceResultSchema = z.object({
  deviceId: z.string(),
  ok: z.boolean(),
  /** Why the hub refused this one (its error code, in an operator's words). */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type BulkDeviceResult = z.infer<typeof BulkDeviceResultSchema>;

export const BulkDeviceResponseSchema = z.object({ results: z.array(BulkDeviceResultSchema) });
export type BulkDeviceResponse = z.infer<typeof BulkDeviceResponseSchema>;
