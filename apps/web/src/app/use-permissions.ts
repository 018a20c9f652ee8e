import { decide, type PolicyAction, type TargetKind } from '@twinscope/contract';
import { useMe } from './use-me.ts';

/**
 * What the signed-in operator may do, by the authorization policy the BFF enforces: `may`
 * enables a control, `why` is the reason shown beside a disabled one. While /api/me loads,
 * nothing is allowed.
 */
export function usePermissions() {
  const me = useMe();
  const roles = me.data?.user.roles ?? [];
  const why = (action: PolicyAction, kind: TargetKind = 'fleet'): string | undefined => {
    const decision = decide(roles, action, kind);
    return decision.allowed ? undefined : decision.reason;
  };
  return {
    roles,
    why,
    may: (action: PolicyAction, kind: TargetKind = 'fleet') => why(action, kind) === undefined,
  };
}
