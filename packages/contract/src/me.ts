import { z } from 'zod';

export const RoleSchema = z.enum(['Reader', 'Operator', 'Admin']);
export type Role = z.infer<typeof RoleSchema>;

const RANK: Record<Role, number> = { Reader: 1, Operator: 2, Admin: 3 };

/** Reader browses and watches; Operator also edits desired and tags; Admin also manages identities. */
export function hasRole(roles: readonly Role[], needed: Role): boolean {
  return roles.some((role) => RANK[role] >= RANK[needed]);
}

export const MeResponseSchema = z.object({
  user: z.object({
    /** Entra object id when signed in; `local` for the local operator. */
    id: z.string(),
    name: z.string(),
    username: z.string().optional(),
    roles: z.array(RoleSchema),
  }),
  authMode: z.enum(['local', 'entra']),
  hub: z.object({ hostName: z.string(), emulator: z.boolean() }),
  /** Sent back as X-CSRF-Token on every state-changing request. */
  csrfToken: z.string(),
  /** Signed in, but no Twinscope role: why, and what to ask for. */
  noAccess: z.string().optional(),
});
export type MeResponse = z.infer<typeof MeResponseSchema>;

/** `POST /auth/logout`: where to send the browser so the identity provider signs out too. */
export const LogoutResponseSchema = z.object({ logoutUrl: z.string() });
export type LogoutResponse = z.infer<typeof LogoutResponseSchema>;
