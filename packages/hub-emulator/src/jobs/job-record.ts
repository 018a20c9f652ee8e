// What a job v2 is: its record, each device's part in it, how IoT Hub shows it, and the pace
// a tier runs jobs at. Pure: jobs.ts schedules and runs them.
import { isJsonObject, type JsonObject, type JsonValue } from '@twinscope/twin';
import type { HubQuota } from '@twinscope/hub-quotas';
import { parseTwinWrite, type TwinWrite } from '../store/identity-input.ts';

export type JobType = 'scheduleUpdateTwin' | 'scheduleDeviceMethod';
export type JobStatus = 'queued' | 'scheduled' | 'running' | 'completed' | 'failed' | 'cancelled';
/** A device's part in a job; `canceled` with one l, as IoT Hub spells it there. */
export type DeviceJobStatus =
  'pending' | 'scheduled' | 'running' | 'completed' | 'failed' | 'canceled';

export interface DeviceJob {
  deviceId: string;
  jobId: string;
  jobType: JobType;
  status: DeviceJobStatus;
  startTimeUtc: string;
  endTimeUtc: string;
  createdDateTimeUtc: string;
  lastUpdatedDateTimeUtc: string;
  outcome: { deviceMethodResponse: { status: number; payload: JsonValue } | null };
  error?: { code: string; description: string };
}

/** A job as the emulator keeps it (in memory and in jobs.json). */
export interface JobRecord {
  jobId: string;
  type: JobType;
  queryCondition: string;
  createdTime: string;
  startTime: string;
  endTime?: string;
  maxExecutionTimeInSeconds: number;
  updateTwin?: JsonObject;
  cloudToDeviceMethod?: {
    methodName: string;
    payload: JsonValue;
    responseTimeoutInSeconds: number;
  };
  status: JobStatus;
  failureReason?: string;
  statusMessage?: string;
  /** The devices the query selected when the job started, with each one's outcome. */
  devices: DeviceJob[];
}

/**
 * Device operations a job performs a second, and jobs running at once, by tier (IoT Hub
 * quotas and throttling: "jobs device operations" and "maximum concurrent jobs"). Without a
 * tier (the emulator unthrottled) jobs run as fast as the emulator goes, five at once.
 */
export function jobPace(quota: HubQuota | undefined): { perSecond: number; concurrent: number } {
  if (!quota) return { perSecond: 1_000, concurrent: 5 };
  const u = quota.units;
  switch (quota.tier) {
    case 'F1':
      return { perSecond: 10, concurrent: 1 };
    case 'S1':
      return { perSecond: Math.max(10, u), concurrent: 1 };
    case 'S2':
      return { perSecond: 50 * u, concurrent: 5 };
    case 'S3':
      return { perSecond: 1_000 * u, concurrent: 10 };
  }
}

function statistics(job: JobRecord) {
  const count = (status: DeviceJobStatus) => job.devices.filter((d) => d.status === status).length;
  return {
    deviceCount: job.devices.length,
    failedCount: count('failed'),
    succeededCount: count('completed'),
    runningCount: count('running'),
    pendingCount: count('pending') + count('scheduled'),
  };
}

/** A job as `GET /jobs/v2/{id}` answers it (JobResponse). */
export function render(job: JobRecord): JsonObject {
  return {
    jobId: job.jobId,
    queryCondition: job.queryCondition,
    createdTime: job.createdTime,
    startTime: job.startTime,
    ...(job.endTime ? { endTime: job.endTime } : {}),
    maxExecutionTimeInSeconds: job.maxExecutionTimeInSeconds,
    type: job.type,
    ...(job.cloudToDeviceMethod ? { cloudToDeviceMethod: job.cloudToDeviceMethod } : {}),
    ...(job.updateTwin ? { updateTwin: job.updateTwin } : {}),
    status: job.status,
    ...(job.failureReason ? { failureReason: job.failureReason } : {}),
    ...(job.statusMessage ? { statusMessage: job.statusMessage } : {}),
    deviceJobStatistics: statistics(job),
  };
}

/** A job that has ended, one way or another. */
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled']);

/** A body's member when it is a string. */
export function text(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' ? value : undefined;
}

/** The twin write a scheduleUpdateTwin job applies: tags and desired (reported is ignored). */
export function twinWriteOf(patch: JsonObject): { write: TwinWrite; etag: string | undefined } {
  const { etag, properties, ...rest } = patch;
  const desired = isJsonObject(properties) ? properties['desired'] : undefined;
  const write = parseTwinWrite({
    ...rest,
    ...(desired !== undefined ? { properties: { desired } } : {}),
  });
  return { write, etag: typeof etag === 'string' && etag !== '*' ? etag : undefined };
}
