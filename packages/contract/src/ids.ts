import { IDENTITY_ID_PATTERN, IDENTITY_ID_RULE } from '@twinscope/twin';
import { z } from 'zod';

export const DeviceIdSchema = z
  .string()
  .regex(IDENTITY_ID_PATTERN, `Device IDs are ${IDENTITY_ID_RULE}.`);
export const ModuleIdSchema = z
  .string()
  .regex(IDENTITY_ID_PATTERN, `Module IDs are ${IDENTITY_ID_RULE}.`);

export const TwinRefSchema = z
  .object({ deviceId: DeviceIdSchema, moduleId: ModuleIdSchema.optional() })
  .strict();
export type TwinRef = z.infer<typeof TwinRefSchema>;

/** One key for a device or module twin: `dev` or `dev/mod`. */
export function twinKey(ref: TwinRef): string {
  return ref.moduleId === undefined ? ref.deviceId : `${ref.deviceId}/${ref.moduleId}`;
}
