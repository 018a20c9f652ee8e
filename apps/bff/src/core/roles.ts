import type { Role } from '@twinscope/contract';

export type RoleMap = ReadonlyMap<string, Role>;

export const DEFAULT_ROLE_MAP =
  'Twinscope.Reader=Reader,Twinscope.Operator=Operator,Twinscope.Admin=Admin';

/** `AppRoleValue=TwinscopeRole,…` → a map; throws with the offending entry. */
export function parseRoleMap(text: string): RoleMap {
  const map = new Map<string, Role>();
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [claim, role] = entry.split('=').map((p) => p.trim());
    if (!claim || (role !== 'Reader' && role !== 'Operator' && role !== 'Admin')) {
      throw new Error(
        `"${entry}" is not AppRoleValue=Reader|Operator|Admin (e.g. Twinscope.Admin=Admin)`,
      );
    }
    map.set(claim, role);
  }
  if (map.size === 0) throw new Error('no role mapping given');
  return map;
}

export interface SignedInUser {
  /** Entra object id (`oid`), or `sub` from a provider without one. */
  id: string;
  name: string;
  username?: string;
  tenantId?: string;
  roles: Role[];
  /** The token said the user's groups did not fit (Entra's groups overage). */
  groupsOverage: boolean;
}

/**
 * The Twinscope roles an ID token grants: only its `roles` claim (Entra app roles) counts,
 * through the configured map. No claim, or no mapped value, means no access.
 */
export function userFromClaims(claims: Record<string, unknown>, map: RoleMap): SignedInUser {
  const claimed = Array.isArray(claims['roles']) ? claims['roles'] : [];
  const roles = [
    ...new Set(
      claimed.flatMap((value) =>
        typeof value === 'string' && map.has(value) ? [map.get(value)!] : [],
      ),
    ),
  ];
  const claimNames = claims['_claim_names'];
  const str = (key: string) =>
    typeof claims[key] === 'string' ? (claims[key] as string) : undefined;
  const username = str('preferred_username');
  const tenantId = str('tid');
  return {
    id: str('oid') ?? str('sub') ?? 'unknown',
    name: str('name') ?? username ?? 'Signed-in user',
    ...(username ? { username } : {}),
    ...(tenantId ? { tenantId } : {}),
    roles,
    groupsOverage: typeof claimNames === 'object' && claimNames !== null && 'groups' in claimNames,
  };
}

/** Why a signed-in user may not use Twinscope, in words an operator can act on. */
export function noAccessReason(user: SignedInUser, map: RoleMap): string | undefined {
  if (user.roles.length > 0) return undefined;
  const values = [...map.keys()].join(', ');
  const overage = user.groupsOverage
    ? ' Your token says you belong to more groups than fit in it (a groups overage), so group membership cannot be read from it; Twinscope authorizes on app roles, so assign the role to you or to one of your groups in the enterprise application.'
    : '';
  return `Your account has no Twinscope app role. Ask an administrator to assign one of ${values} to you in Microsoft Entra ID (Enterprise applications → Twinscope → Users and groups), then sign in again.${overage}`;
}
