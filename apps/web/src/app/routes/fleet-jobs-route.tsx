import { FleetJobsPage } from '../../features/fleet-jobs/components/fleet-jobs-page.tsx';
import { usePermissions } from '../use-permissions.ts';

/**
 * The hub's bulk import and export jobs: the page is there for everyone, and the policy says
 * who may start and follow them (the reason is shown to the others).
 */
export function FleetJobsRoute({ jobId }: { jobId?: string }) {
  const permissions = usePermissions();
  return (
    <FleetJobsPage
      {...(jobId === undefined ? {} : { jobId })}
      exportRefusal={permissions.why('fleet.export')}
      importRefusal={permissions.why('fleet.import')}
    />
  );
}
