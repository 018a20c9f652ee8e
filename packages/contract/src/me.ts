import { z } from 'zod';

export const RoleSchema = z.enum(['Reader', 'Operator', 'Admin']);
export type Role = z.infer<typeof RoleSchema>;

export const MeResponseSchema = z.object({
  user: z.object({ id: z.string(), name: z.string(), roles: z.array(RoleSchema) }),
  authMode: z.enum(['local', 'entra']),
  hub: z.object({ hostName: z.string(), emulator: z.boolean() }),
});
export type MeResponse = z.infer<typeof MeResponseSchema>;
