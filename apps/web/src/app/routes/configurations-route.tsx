import { ConfigurationsPage } from '../../features/configurations/components/configurations-page.tsx';
import { usePermissions } from '../use-permissions.ts';

/** The hub's automatic configurations: anyone reads them; the policy says who changes them. */
export function ConfigurationsRoute() {
  const permissions = usePermissions();
  return <ConfigurationsPage refusal={permissions.why('configuration.write')} />;
}
