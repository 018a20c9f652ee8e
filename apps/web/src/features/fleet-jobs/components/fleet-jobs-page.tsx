import { MessageBar, MessageBarBody, Spinner, Text } from '@fluentui/react-components';
import type { FleetJob } from '@twinscope/contract';
import { useState } from 'react';
import { fleetJobPath, navigate } from '../../../lib/router.tsx';
import { useFleetJob } from '../api/get-fleet-job.ts';
import { ExportSection } from './export-section.tsx';
import { ImportSection } from './import-section.tsx';
import { JobError } from './job-error.tsx';
import { RecentJobs } from './recent-jobs.tsx';

/**
 * The hub's bulk identity jobs: export (and download), import (previewed, then run), and
 * the recent jobs. With a job id, that job is followed in its own section, export or
 * import; a job started here becomes the page's job, so its URL is a link to it.
 */
export function FleetJobsPage({
  jobId,
  exportRefusal,
  importRefusal,
}: {
  jobId?: string;
  /** Why the operator may not export or follow jobs (the policy's reason), or nothing. */
  exportRefusal: string | undefined;
  /** Why the operator may not import (the policy's reason), or nothing. */
  importRefusal: string | undefined;
}) {
  // The job just started here takes the focus once its view appears.
  const [started, setStarted] = useState<string>();
  const follows = exportRefusal === undefined;
  const job = useFleetJob(jobId, follows);
  const shown = job.data?.jobId === jobId ? job.data : undefined;
  const pollError = shown ? job.error : null;
  const onStarted = (next: FleetJob) => {
    setStarted(next.jobId);
    navigate(fleetJobPath(next.jobId));
  };
  const of = (kind: FleetJob['kind']) => ({
    job: shown?.kind === kind ? shown : undefined,
    pollError,
    focusJob: shown?.kind === kind && started === shown.jobId,
    onStarted,
  });
  return (
    <section
      className="page fleet-jobs"
      aria-labelledby="fleet-jobs-title"
      data-testid="fleet-jobs"
    >
      <h1 className="page-title" id="fleet-jobs-title">
        Import / export
      </h1>
      <Text className="muted">
        The hub&apos;s bulk jobs move device and module identities in and out of the hub, keys
        included when asked. The files pass through the hub&apos;s storage account, never through
        the devices.
      </Text>
      {exportRefusal !== undefined && (
        <MessageBar intent="info" data-testid="fleet-jobs-refusal">
          <MessageBarBody>{exportRefusal}</MessageBarBody>
        </MessageBar>
      )}
      {follows &&
        jobId !== undefined &&
        !shown &&
        (job.error ? (
          <JobError error={job.error} testId="job-error" />
        ) : (
          <Spinner size="tiny" label={`Loading job ${jobId}…`} />
        ))}
      <ExportSection refusal={exportRefusal} {...of('export')} />
      <ImportSection refusal={importRefusal ?? exportRefusal} {...of('import')} />
      {follows && <RecentJobs selected={jobId} />}
    </section>
  );
}
