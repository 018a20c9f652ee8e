import { z } from 'zod';
import { ModuleIdSchema } from './ids.ts';
import { ModuleIdentitySchema } from './devices.ts';

const Base64Key = z
  .string()
  .regex(/^[A-Za-z0-9+/]{22,86}={0,2}$/, 'Keys are base64 of 16 to 64 bytes.');
const Thumbprint = z
  .string()
  .regex(
    /^([0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/,
    'Thumbprints are 40 (SHA-1) or 64 (SHA-256) hex digits.',
  );

/** Symmetric keys; leave both empty and the hub generates them. */
export const SasAuthenticationSchema = z
  .object({
    type: z.literal('sas'),
    primaryKey: Base64Key.optional(),
    secondaryKey: Base64Key.optional(),
  })
  .strict();

/** An X.509 certificate known by its thumbprint. */
export const SelfSignedAuthenticationSchema = z
  .object({
    type: z.literal('selfSigned'),
    primaryThumbprint: Thumbprint,
    secondaryThumbprint: Thumbprint.optional(),
  })
  .strict();

export const ModuleAuthenticationSchema = z.discriminatedUnion('type', [
  SasAuthenticationSchema,
  SelfSignedAuthenticationSchema,
]);
export type ModuleAuthentication = z.infer<typeof ModuleAuthenticationSchema>;

export const ModuleCreateRequestSchema = z
  .object({
    moduleId: ModuleIdSchema.refine(
      (id) => !id.startsWith('$'),
      'Module IDs starting with $ are reserved for IoT Edge.',
    ),
    managedBy: z.string().max(128).optional(),
    authentication: ModuleAuthenticationSchema.default({ type: 'sas' }),
  })
  .strict();
export type ModuleCreateRequest = z.infer<typeof ModuleCreateRequestSchema>;

/** Changes to a module identity, guarded by the identity's etag. */
export const ModuleUpdateRequestSchema = z
  .object({
    etag: z.string().min(1, "The module's etag is required."),
    managedBy: z.string().max(128).nullable().optional(),
    regenerateKey: z.enum(['primary', 'secondary']).optional(),
  })
  .strict()
  .refine((r) => r.managedBy !== undefined || r.regenerateKey !== undefined, {
    message: 'Nothing to change: give managedBy or regenerateKey.',
  });
export type ModuleUpdateRequest = z.infer<typeof ModuleUpdateRequestSchema>;

export const ModuleResponseSchema = z.object({ module: ModuleIdentitySchema });
export type ModuleResponse = z.infer<typeof ModuleResponseSchema>;

/** Only ever answered to an explicit POST, with Cache-Control: no-store. */
export const ConnectionStringResponseSchema = z.object({ connectionString: z.string() });
export type ConnectionStringResponse = z.infer<typeof ConnectionStringResponseSchema>;
