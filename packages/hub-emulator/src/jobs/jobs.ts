import {
  isJsonObject,
  validateSectionPatch,
  type JsonValue,
  type JsonObject,
} from '@twinscope/twin';
import type { HubQuota } from '@twinscope/hub-quotas';
import { HubError } from '../errors.ts';
import type { MethodInvoker } from '../devices/device-sessions.ts';
import { allRows, runQuery } from '../query/engine.ts';
import type { Registry } from '../store/registry.ts';
import { violationError } from '../store/twin-writes.ts';
import { readJsonState, writeJsonState } from '../store/private-files.ts';
import {
  jobPace,
  render,
  TERMINAL,
  text,
  twinWriteOf,
  type DeviceJob,
  type JobRecord,
  type JobStatus,
} from './job-record.ts';

export interface JobsOptions {
  /** Where jobs are kept across restarts (none: in memory). */
  file?: string;
  /** The hub's tier: the pace of device operations and how many jobs may run at once. */
  quota?: HubQuota;
  now?: () => number;
  /** How often the scheduler looks at jobs (tests shorten it). */
  tickMs?: number;
}

/** How long IoT Hub keeps a job after it ends. */
const HISTORY_MS = 30 * 24 * 60 * 60 * 1000;
const JOB_ID = /^[A-Za-z0-9-]{1,64}$/;
/** Jobs a hub keeps at most (finished ones go first). */
const MAX_JOBS = 10_000;
/** Devices a job may target in the emulator; past it, the job fails saying so. */
const MAX_JOB_DEVICES = 1_000_000;

/**
 * IoT Hub jobs v2: scheduled twin updates and direct methods on the devices a query selects,
 * run in the background at the tier's pace, kept across restarts (a job running when the
 * emulator stopped goes on with the devices it had not reached), and kept 30 days.
 */
export class Jobs {
  private readonly jobs = new Map<string, JobRecord>();
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<string>();
  private readonly pace: { perSecond: number; concurrent: number };
  private readonly now: () => number;
  private closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly devices: MethodInvoker | undefined,
    private readonly options: JobsOptions = {},
  ) {
    this.pace = jobPace(options.quota);
    this.now = options.now ?? Date.now;
    if (options.file)
      for (const job of readJsonState<JobRecord>(options.file, 'jobs'))
        this.jobs.set(job.jobId, job);
    this.timer = setInterval(() => this.tick(), options.tickMs ?? 250);
    this.timer.unref();
  }

  private iso(at = this.now()): string {
    return new Date(at).toISOString();
  }

  private save(): void {
    if (this.options.file) writeJsonState(this.options.file, [...this.jobs.values()]);
  }

  /** `PUT /jobs/v2/{id}`: a new job, queued until its start time. */
  create(jobId: string, body: JsonValue | undefined): JsonObject {
    if (!JOB_ID.test(jobId))
      throw new HubError(
        'ArgumentInvalid',
        'A jobId is at most 64 characters: US-ASCII letters, digits and dashes.',
      );
    if (!isJsonObject(body)) throw new HubError('ArgumentInvalid', 'The body must be a job.');
    if (text(body, 'jobId') !== undefined && body['jobId'] !== jobId)
      throw new HubError('ArgumentInvalid', 'The jobId in the body does not match the path.');
    if (this.jobs.has(jobId))
      throw new HubError('JobAlreadyExists', `A job with id ${jobId} already exists.`);
    const type = body['type'];
    if (type !== 'scheduleUpdateTwin' && type !== 'scheduleDeviceMethod') {
      throw new HubError(
        'ArgumentInvalid',
        type === 'import' || type === 'export'
          ? 'Import and export jobs are created with POST /jobs/create.'
          : "A job's type is scheduleUpdateTwin or scheduleDeviceMethod.",
      );
    }
    const queryCondition = text(body, 'queryCondition');
    if (!queryCondition?.trim())
      throw new HubError('ArgumentInvalid', 'A job needs a queryCondition (a WHERE clause).');
    // A condition the query language refuses is refused now, not when the job starts.
    runQuery(this.registry, `SELECT deviceId FROM devices WHERE ${queryCondition}`, {
      pageSize: 1,
    });
    const start = body['startTime'];
    const startAt =
      start === undefined || start === null
        ? this.now()
        : typeof start === 'string' && !Number.isNaN(Date.parse(start))
          ? Date.parse(start)
          : NaN;
    if (Number.isNaN(startAt))
      throw new HubError('ArgumentInvalid', 'startTime must be an ISO 8601 date and time.');
    const maxSeconds = body['maxExecutionTimeInSeconds'] ?? 3600;
    if (typeof maxSeconds !== 'number' || !Number.isInteger(maxSeconds) || maxSeconds < 1)
      throw new HubError(
        'ArgumentInvalid',
        'maxExecutionTimeInSeconds must be a whole number of seconds.',
      );
    const job: JobRecord = {
      jobId,
      type,
      queryCondition,
      createdTime: this.iso(),
      startTime: this.iso(startAt),
      maxExecutionTimeInSeconds: maxSeconds,
      status: 'queued',
      devices: [],
    };
    if (type === 'scheduleUpdateTwin') {
      const patch = body['updateTwin'];
      if (!isJsonObject(patch))
        throw new HubError('ArgumentInvalid', 'A scheduleUpdateTwin job needs updateTwin.');
      // A patch that breaks IoT Hub's twin rules is refused now, not on every device.
      const { write } = twinWriteOf(patch);
      const violations = [
        ...(write.tags ? validateSectionPatch('tags', write.tags) : []),
        ...(write.desired ? validateSectionPatch('desired', write.desired) : []),
      ];
      if (violations.length > 0) throw violationError(violations);
      job.updateTwin = patch;
    } else {
      const method = body['cloudToDeviceMethod'];
      if (
        !isJsonObject(method) ||
        typeof method['methodName'] !== 'string' ||
        !method['methodName']
      )
        throw new HubError(
          'ArgumentInvalid',
          'A scheduleDeviceMethod job needs cloudToDeviceMethod with a methodName.',
        );
      const timeout = method['responseTimeoutInSeconds'] ?? 30;
      if (typeof timeout !== 'number' || timeout < 5 || timeout > 300)
        throw new HubError(
          'ArgumentInvalid',
          'responseTimeoutInSeconds must be between 5 and 300 seconds.',
        );
      job.cloudToDeviceMethod = {
        methodName: method['methodName'],
        payload: method['payload'] ?? null,
        responseTimeoutInSeconds: timeout,
      };
    }
    this.forgetOld();
    this.jobs.set(jobId, job);
    this.save();
    return render(job);
  }

  get(jobId: string): JsonObject {
    return render(this.find(jobId));
  }

  private find(jobId: string): JobRecord {
    const job = this.jobs.get(jobId);
    if (!job) throw new HubError('JobNotFound', `Job ${jobId} not found.`);
    return job;
  }

  /** `POST /jobs/v2/{id}/cancel`: devices not yet reached are canceled. */
  cancel(jobId: string): JsonObject {
    const job = this.find(jobId);
    if (!TERMINAL.has(job.status)) {
      const at = this.iso();
      for (const device of job.devices) {
        if (device.status === 'pending' || device.status === 'scheduled') {
          device.status = 'canceled';
          device.lastUpdatedDateTimeUtc = at;
        }
      }
      job.status = 'cancelled';
      job.endTime = at;
      this.save();
    }
    return render(job);
  }

  /** `GET /jobs/v2/query`: jobs newest first, filtered by type and status, a page at a time. */
  query(
    filter: { type?: string; status?: string },
    pageSize: number,
    continuation: string | undefined,
  ): { items: JsonObject[]; continuation?: string } {
    const all = [...this.jobs.values()]
      .filter((job) => !filter.type || job.type === filter.type)
      .filter((job) => !filter.status || job.status === filter.status)
      .sort((a, b) => (a.createdTime < b.createdTime ? 1 : a.createdTime > b.createdTime ? -1 : 0));
    const start = continuation ? Number(Buffer.from(continuation, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0)
      throw new HubError('ArgumentInvalid', 'The continuation token is not valid.');
    const items = all.slice(start, start + pageSize).map(render);
    const next = start + pageSize;
    return {
      items,
      ...(next < all.length
        ? { continuation: Buffer.from(String(next)).toString('base64url') }
        : {}),
    };
  }

  /** Every device's part in every job: the rows of `FROM devices.jobs`. */
  deviceJobs(): DeviceJob[] {
    return [...this.jobs.values()].flatMap((job) => job.devices);
  }

  private forgetOld(): void {
    const cutoff = this.now() - HISTORY_MS;
    for (const [id, job] of this.jobs)
      if (job.endTime && Date.parse(job.endTime) < cutoff) this.jobs.delete(id);
    if (this.jobs.size < MAX_JOBS) return;
    const finished = [...this.jobs.values()]
      .filter((job) => TERMINAL.has(job.status))
      .sort((a, b) => (a.createdTime < b.createdTime ? -1 : 1));
    for (const job of finished.slice(0, this.jobs.size - MAX_JOBS + 1)) this.jobs.delete(job.jobId);
  }

  /** Starts jobs whose time has come (as many as the tier runs at once), and resumes any. */
  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    for (const job of this.jobs.values()) {
      if (this.running.size >= this.pace.concurrent) break;
      if (this.running.has(job.jobId)) continue;
      const due =
        job.status === 'running' ||
        ((job.status === 'queued' || job.status === 'scheduled') &&
          Date.parse(job.startTime) <= now);
      if (!due) continue;
      this.running.add(job.jobId);
      void this.run(job).finally(() => this.running.delete(job.jobId));
    }
  }

  private targets(job: JobRecord): DeviceJob[] {
    const at = this.iso();
    const ids = allRows(
      this.registry,
      `SELECT deviceId FROM devices WHERE ${job.queryCondition}`,
    ).flatMap((item) =>
      isJsonObject(item) && typeof item['deviceId'] === 'string' ? [item['deviceId']] : [],
    );
    return ids.map((deviceId) => ({
      deviceId,
      jobId: job.jobId,
      jobType: job.type,
      status: 'pending',
      startTimeUtc: job.startTime,
      endTimeUtc: new Date(
        Date.parse(job.startTime) + job.maxExecutionTimeInSeconds * 1000,
      ).toISOString(),
      createdDateTimeUtc: at,
      lastUpdatedDateTimeUtc: at,
      outcome: { deviceMethodResponse: null },
    }));
  }

  private async run(job: JobRecord): Promise<void> {
    if (job.status !== 'running') {
      job.status = 'running';
      try {
        job.devices = this.targets(job);
      } catch (error) {
        job.devices = [];
        this.finish(job, 'failed', (error as Error).message);
        return;
      }
      if (job.devices.length > MAX_JOB_DEVICES) {
        this.finish(
          job,
          'failed',
          `The emulator runs jobs on at most ${MAX_JOB_DEVICES.toLocaleString('en')} devices.`,
        );
        return;
      }
      this.save();
    }
    const deadline = Date.parse(job.startTime) + job.maxExecutionTimeInSeconds * 1000;
    const interval = 1000 / this.pace.perSecond;
    let next = this.now();
    let saved = this.now();
    for (const device of job.devices) {
      if (this.closed || job.status !== 'running') return;
      if (device.status !== 'pending' && device.status !== 'running') continue;
      if (this.now() > deadline) {
        this.finish(job, 'completed', 'The job reached its maximum execution time.');
        return;
      }
      const wait = next - this.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      next = Math.max(next + interval, this.now() - 1000);
      await this.runDevice(job, device);
      if (this.now() - saved > 1000) {
        this.save();
        saved = this.now();
      }
    }
    if (job.status === 'running') this.finish(job, 'completed');
  }

  private async runDevice(job: JobRecord, device: DeviceJob): Promise<void> {
    device.status = 'running';
    device.lastUpdatedDateTimeUtc = this.iso();
    try {
      if (job.type === 'scheduleUpdateTwin') {
        const { write, etag } = twinWriteOf(job.updateTwin!);
        this.registry.patchTwin(device.deviceId, undefined, write, etag);
      } else {
        const method = job.cloudToDeviceMethod!;
        if (!this.devices)
          throw new HubError('DeviceNotOnline', 'The emulator was started without devices.');
        const response = await this.devices.invokeMethod(
          { deviceId: device.deviceId },
          method.methodName,
          method.payload,
          method.responseTimeoutInSeconds,
        );
        device.outcome = { deviceMethodResponse: response };
      }
      device.status = 'completed';
    } catch (error) {
      device.status = 'failed';
      device.error =
        error instanceof HubError
          ? { code: error.code, description: error.message }
          : { code: 'ServerError', description: (error as Error).message };
    }
    device.lastUpdatedDateTimeUtc = this.iso();
  }

  private finish(job: JobRecord, status: JobStatus, message?: string): void {
    const at = this.iso();
    for (const device of job.devices) {
      if (device.status === 'pending' || device.status === 'running') {
        device.status = 'failed';
        device.error = { code: 'JobRunPreconditionFailed', description: message ?? 'Not run.' };
        device.lastUpdatedDateTimeUtc = at;
      }
    }
    job.status = status;
    job.endTime = at;
    if (status === 'failed' && message) job.failureReason = message;
    else if (message) job.statusMessage = message;
    this.save();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.save();
  }
}
