import { OverviewPage } from '../../features/overview/components/overview-page.tsx';
import { usePermissions } from '../use-permissions.ts';

export function OverviewRoute() {
  const permissions = usePermissions();
  return <OverviewPage refusal={permissions.why('overview.configure')} />;
}
