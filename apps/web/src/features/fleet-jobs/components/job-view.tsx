import {
  Badge,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Text,
} from '@fluentui/react-components';
import type { FleetJob } from '@twinscope/contract';
import { useEffect, useId, useRef } from 'react';
import { relativeTime } from '../../../lib/format.ts';
import { countsSummary } from '../import-text.ts';
import { hasEnded, percentOf, STATUS_COLOR } from '../job-model.ts';
import { DownloadButton } from './download-button.tsx';
import { ImportOutcome } from './import-outcome.tsx';

const when = (at: string) => <span title={new Date(at).toLocaleString()}>{relativeTime(at)}</span>;

/**
 * One bulk job as the hub reports it: its status and progress (asked again every second
 * until it ends), who started it and when; then an export's download, or an import's
 * outcome line by line.
 */
export function JobView({
  job,
  pollError,
  focus = false,
}: {
  job: FleetJob;
  /** Why the last time the hub was asked failed (the job shows as it was last seen). */
  pollError: Error | null;
  /** The job was just started here: the view takes the focus, so it is where one reads on. */
  focus?: boolean;
}) {
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus) heading.current?.focus();
  }, [focus]);
  const ended = hasEnded(job.status);
  const percent = percentOf(job);
  const isExport = job.kind === 'export';
  return (
    <section className="job-view" aria-labelledby={headingId} data-testid="fleet-job">
      <div className="action-row job-view-head">
        <h3 id={headingId} ref={heading} tabIndex={-1}>
          Job <code>{job.jobId}</code>
        </h3>
        <span role="status">
          <span className="visually-hidden">Status </span>
          <Badge appearance="tint" color={STATUS_COLOR[job.status]} data-testid="job-status">
            {job.status}
          </Badge>
        </span>
      </div>
      <div className="job-progress">
        <ProgressBar
          value={percent / 100}
          thickness="large"
          color={
            job.status === 'failed' ? 'error' : job.status === 'completed' ? 'success' : 'brand'
          }
          aria-label="Job progress"
          aria-valuetext={`${percent}%`}
        />
        <Text data-testid="job-progress">{percent}%</Text>
      </div>
      <Text className="muted">
        {isExport ? 'An export' : 'An import'} started by {job.by.name} {when(job.createdAt)}
        {job.endedAt && <> · ended {when(job.endedAt)}</>}
      </Text>
      {isExport ? (
        <Text data-testid="job-scope">
          {job.filter ? (
            <>
              Devices where <code>{job.filter}</code>
            </>
          ) : (
            'The whole fleet'
          )}
          {job.includeKeys ? ', with their keys.' : ', without keys.'}
        </Text>
      ) : (
        job.counts && <Text data-testid="job-expected">Previewed: {countsSummary(job.counts)}</Text>
      )}
      {job.failureReason && (
        <MessageBar intent="error" data-testid="job-failure">
          <MessageBarBody>
            <MessageBarTitle>The hub stopped the job</MessageBarTitle>
            {job.failureReason}
          </MessageBarBody>
        </MessageBar>
      )}
      {pollError && !ended && (
        <MessageBar intent="warning" data-testid="job-poll-error">
          <MessageBarBody>
            The job&apos;s status could not be read just now ({pollError.message}); it is asked
            again every second.
          </MessageBarBody>
        </MessageBar>
      )}
      {isExport &&
        (job.status === 'completed' ? (
          <DownloadButton jobId={job.jobId} secret={job.includeKeys === true} />
        ) : (
          !ended && (
            <Text className="muted">The file can be downloaded once the export has completed.</Text>
          )
        ))}
      {!isExport && ended && <ImportOutcome job={job} />}
    </section>
  );
}
