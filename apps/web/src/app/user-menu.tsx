import {
  Button,
  Menu,
  MenuDivider,
  MenuGroupHeader,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
} from '@fluentui/react-components';
import { signOut } from '../lib/api-client.ts';
import { useMe } from './use-me.ts';
import { usePermissions } from './use-permissions.ts';
import { apiPaths } from '../lib/api-paths.ts';

/** Who is signed in, with which role; audit export for admins; sign-out. */
export function UserMenu({ initiallyOpen = false }: { initiallyOpen?: boolean }) {
  const me = useMe();
  const permissions = usePermissions();
  if (!me.data) return null;
  const { user, authMode, hub } = me.data;
  const role = user.roles.join(', ') || 'no role';
  return (
    <Menu defaultOpen={initiallyOpen}>
      <MenuTrigger disableButtonEnhancement>
        <Button appearance="subtle" data-testid="user-menu" aria-label={`${user.name}, ${role}`}>
          {user.name} · {role}
        </Button>
      </MenuTrigger>
      <MenuPopover>
        <MenuList>
          <MenuGroupHeader>
            {user.username ?? (authMode === 'local' ? 'Local mode: no sign-in, loopback only' : '')}
          </MenuGroupHeader>
          <MenuGroupHeader>
            {hub.hostName}
            {hub.emulator ? ' (emulator)' : ''}
          </MenuGroupHeader>
          <MenuDivider />
          {permissions.may('audit.export') && (
            <MenuItem onClick={() => window.location.assign(apiPaths.auditExport())}>
              Export audit trail (JSON lines)
            </MenuItem>
          )}
          {authMode === 'entra' && (
            <MenuItem data-testid="sign-out" onClick={() => void signOut()}>
              Sign out
            </MenuItem>
          )}
        </MenuList>
      </MenuPopover>
    </Menu>
  );
}
