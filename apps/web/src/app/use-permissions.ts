import { hasRole, type Role } from '@twinscope/contract';
import { useMe } from './use-me.ts';

/** What the signed-in operator may do; while /api/me loads, nothing is allowed. */
export function usePermissions() {
  const me = useMe();
  const roles = me.data?.user.roles ?? [];
  const can = (role: Role) => hasRole(roles, role);
  return {
    editTwins: can('Operator'),
    invokeMethods: can('Operator'),
    sendMessages: can('Operator'),
    viewAudit: can('Operator'),
    manageModules: can('Admin'),
    manageDevices: can('Admin'),
    roles,
  };
}
