import { Badge, Button, Spinner } from '@fluentui/react-components';
import { relativeTime } from '../../../lib/format.ts';
import { fleetJobPath, Link } from '../../../lib/router.tsx';
import { useFleetJobs } from '../api/get-fleet-jobs.ts';
import { percentOf, STATUS_COLOR } from '../job-model.ts';
import { JobError } from './job-error.tsx';

const when = (at: string | undefined) =>
  at ? <span title={new Date(at).toLocaleString()}>{relativeTime(at)}</span> : '';

/** The 20 latest bulk jobs started from Twinscope, as last seen; each id opens its job. */
export function RecentJobs({ selected }: { selected: string | undefined }) {
  const jobs = useFleetJobs(true);
  return (
    <section
      className="fleet-section"
      aria-labelledby="recent-jobs-title"
      data-testid="recent-jobs"
    >
      <div className="action-row section-head">
        <h2 id="recent-jobs-title">Recent jobs</h2>
        <span className="spacer" />
        <Button
          size="small"
          onClick={() => void jobs.refetch()}
          disabled={jobs.isFetching}
          aria-label="Refresh the recent jobs"
        >
          {jobs.isFetching && !jobs.isPending ? 'Refreshing…' : 'Refresh'}
        </Button>
      </div>
      {jobs.isPending ? (
        <Spinner size="tiny" label="Loading the recent jobs…" />
      ) : jobs.error && !jobs.data ? (
        <JobError error={jobs.error} testId="recent-jobs-error" />
      ) : jobs.data.length === 0 ? (
        <p className="muted" data-testid="recent-jobs-empty">
          No import or export has been started from Twinscope yet.
        </p>
      ) : (
        <table className="invocations recent-jobs" aria-labelledby="recent-jobs-title">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">By</th>
              <th scope="col">Started</th>
              <th scope="col">Ended</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.map((job) => (
              <tr
                key={job.jobId}
                data-testid="fleet-job-row"
                {...(job.jobId === selected ? { 'aria-current': 'true' as const } : {})}
              >
                <td className="mono-cell">
                  <Link to={fleetJobPath(job.jobId)}>{job.jobId}</Link>
                </td>
                <td>{job.kind}</td>
                <td>
                  <Badge appearance="tint" color={STATUS_COLOR[job.status]}>
                    {job.status}
                  </Badge>
                </td>
                <td>{percentOf(job)}%</td>
                <td>{job.by.name}</td>
                <td>{when(job.createdAt)}</td>
                <td>{when(job.endedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
