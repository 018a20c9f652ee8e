import { z } from 'zod';

// IoT Hub's alphabet for device and module ids; anything else never reaches the hub.
const ID = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;

export const DeviceIdSchema = z
  .string()
  .regex(
    ID,
    "Device IDs are 1 to 128 ASCII letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ '",
  );
export const ModuleIdSchema = z
  .string()
  .regex(
    ID,
    "Module IDs are 1 to 128 ASCII letters, digits or - : . + % _ # * ? ! ( ) , = @ ; $ '",
  );

export const TwinRefSchema = z
  .object({ deviceId: DeviceIdSchema, moduleId: ModuleIdSchema.optional() })
  .strict();
export type TwinRef = z.infer<typeof TwinRefSchema>;

/** One key for a device or module twin: `dev` or `dev/mod`. */
export function twinKey(ref: TwinRef): string {
  return ref.moduleId === undefined ? ref.deviceId : `${ref.deviceId}/${ref.moduleId}`;
}
