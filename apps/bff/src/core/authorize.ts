import { decide, type PolicyAction, type Role, type TargetKind } from '@twinscope/contract';
import { AppError } from './app-error.ts';

/**
 * Refuses (403) unless the policy lets `roles` take `action` on a target of `kind`; the
 * reason names the role, or the route and role that may. Routes check through the policy
 * router; rollouts check each twin write or call they would make before storing anything.
 */
export function authorize(roles: readonly Role[], action: PolicyAction, kind: TargetKind): void {
  const decision = decide(roles, action, kind);
  if (!decision.allowed) throw new AppError('forbidden', decision.reason, { refusedBy: 'policy' });
}
