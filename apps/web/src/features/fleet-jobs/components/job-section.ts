import type { FleetJob } from '@twinscope/contract';

/** What the Export and Import sections each take from the page. */
export interface JobSectionProps {
  /** Why the operator may not run this kind of job (the policy's reason), or nothing. */
  refusal: string | undefined;
  /** The job of this kind the page follows, if any. */
  job: FleetJob | undefined;
  pollError: Error | null;
  focusJob: boolean;
  onStarted(job: FleetJob): void;
}
