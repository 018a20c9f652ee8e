import { ConfigurationsPage } from '../../features/configurations/components/configurations-page.tsx';
import { usePermissions } from '../use-permissions.ts';

/** The hub's automatic configurations (anyone reads; Admins change them). */
export function ConfigurationsRoute() {
  const permissions = usePermissions();
  return <ConfigurationsPage canManage={permissions.may('configuration.write')} />;
}
