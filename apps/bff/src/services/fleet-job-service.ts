import { StringDecoder } from 'node:string_decoder';
import { Transform, type Readable } from 'node:stream';
import {
  IMPORT_LISTED_MAX,
  IMPORT_MODES,
  type ExportRequest,
  type FleetJob,
  type ImportCounts,
  type ImportLine,
  type ImportPreview,
} from '@twinscope/contract';
import { isIdentityId, isJsonObject, objectOf, parseJson, stringOf } from '@twinscope/twin';
import type { HubAdapter, HubBulkJob } from '../adapters/hub-adapter.ts';
import type { JobStorage } from '../adapters/job-storage.ts';
import type { Database } from '../adapters/store/sql.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import { inLists } from '../core/hub-query.ts';
import { rowsOf } from '../rollouts/targets.ts';
import { audited } from '../audit/audited.ts';
import type { Actor } from '../audit/records.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';

/** The hub's file names in a job's container. */
const DEVICES_BLOB = 'devices.txt';
const ERRORS_BLOB = 'importErrors.log';
/** How long one existence query's IN list may be (IoT Hub refuses a query over 8 KB). */
const IN_LIST_ROOM = 7000;
/** Beyond this many ids, one paged scan of the hub's ids costs fewer queries than IN lists. */
const SCAN_ABOVE = 2000;

const ENDED = new Set(['completed', 'failed', 'cancelled']);
const MODES = new Map(IMPORT_MODES.map((mode) => [mode.toLowerCase(), mode]));

interface JobRow {
  job_id: string;
  kind: 'export' | 'import';
  container: string;
  actor_id: string;
  actor_name: string;
  created_at: Date;
  filter: string | null;
  include_keys: boolean | null;
  counts: ImportCounts | null;
  items: ImportLine[] | null;
  truncated: boolean | null;
  status: string;
  progress: number;
  ended_at: Date | null;
  failure_reason: string | null;
}

const NO_STORAGE =
  "Bulk jobs need the hub's storage account: set TWINSCOPE_STORAGE_CONNECTION_STRING (an account key connection string), or run on the emulator.";

function statusOf(status: string): FleetJob['status'] {
  const known = ['queued', 'running', 'completed', 'failed', 'cancelled'];
  if (status === 'enqueued') return 'queued';
  return (known.includes(status) ? status : 'unknown') as FleetJob['status'];
}

/** One line of an import file, read as the hub reads it. */
interface ParsedLine {
  line: number;
  deviceId: string;
  moduleId?: string;
  mode?: (typeof IMPORT_MODES)[number];
  refused?: string;
}

function parseLines(text: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = index + 1;
    let value: unknown;
    try {
      value = parseJson(raw);
    } catch {
      out.push({ line, deviceId: '', refused: 'not a JSON object' });
      return;
    }
    if (!isJsonObject(value)) {
      out.push({ line, deviceId: '', refused: 'not a JSON object' });
      return;
    }
    const deviceId = stringOf(value['id']) ?? '';
    const moduleId = stringOf(value['moduleId']);
    const given = value['importMode'];
    const mode =
      given === undefined
        ? 'createOrUpdate'
        : typeof given === 'string'
          ? MODES.get(given.toLowerCase())
          : undefined;
    const parsed: ParsedLine = { line, deviceId, ...(moduleId !== undefined ? { moduleId } : {}) };
    if (!deviceId) parsed.refused = 'no id';
    else if (!isIdentityId(deviceId) || (moduleId !== undefined && !isIdentityId(moduleId)))
      parsed.refused = 'the id is not a valid device or module id';
    else if (!mode) parsed.refused = `unknown importMode ${JSON.stringify(given)}`;
    else parsed.mode = mode;
    out.push(parsed);
  });
  return out;
}

/** What a line would do to an identity that exists or not. */
function actionOf(line: ParsedLine, exists: boolean): Pick<ImportLine, 'action' | 'reason'> {
  if (line.refused) return { action: 'refused', reason: line.refused };
  const mode = line.mode!;
  const what = line.moduleId ? 'module' : 'device';
  if (mode.startsWith('delete'))
    return exists
      ? { action: 'delete' }
      : { action: 'refused', reason: `no such ${what} to delete` };
  if (mode === 'create')
    return exists
      ? { action: 'refused', reason: `the ${what} already exists` }
      : { action: 'create' };
  if (mode.startsWith('createOrUpdate')) return { action: exists ? 'update' : 'create' };
  return exists ? { action: 'update' } : { action: 'refused', reason: `no such ${what} to update` };
}

/**
 * The hub's bulk identity jobs from the console: an export (the whole fleet, or the part a
 * condition selects, downloaded from the job's container), and an import previewed against
 * the hub as it is, then run, with its progress and each line's outcome. Who ran which job
 * is kept in the team's database; every job is in the audit trail.
 */
export class FleetJobService {
  constructor(
    private readonly hub: HubAdapter,
    private readonly storage: JobStorage | undefined,
    private readonly db: Database,
    private readonly audit: AuditTrail,
  ) {}

  private store(): JobStorage {
    if (!this.storage) throw new AppError('file_upload_not_configured', NO_STORAGE);
    return this.storage;
  }

  /** The device ids a condition selects now (the filter of an export's download). */
  private async selected(filter: string, context?: CallContext): Promise<Set<string>> {
    const ids = new Set<string>();
    const sql = `SELECT deviceId FROM devices WHERE (${filter})`;
    for await (const row of rowsOf(this.hub, sql, context)) ids.add(String(row['deviceId']));
    return ids;
  }

  async startExport(
    request: ExportRequest,
    actor: Actor,
    context?: CallContext,
  ): Promise<FleetJob> {
    const storage = this.store();
    const filter = request.filter || undefined;
    // A condition the hub refuses is refused now, before any job runs.
    if (filter)
      await this.hub.query(`SELECT COUNT() AS n FROM devices WHERE ${filter}`, {}, context);
    const { container, sasUri } = await storage.newContainer('export');
    const job = await audited(
      this.audit,
      {
        actor,
        action: 'fleet.export',
        target: { deviceId: '' },
        change: { includeKeys: request.includeKeys, ...(filter ? { filter } : {}) },
      },
      () => this.hub.startExport(sasUri, !request.includeKeys, context),
    );
    await this.remember(job, 'export', container, actor, {
      filter: filter ?? null,
      include_keys: request.includeKeys,
    });
    return this.get(job.jobId, context);
  }

  /** What an import file would do to the hub as it is now; nothing is changed. */
  async preview(text: string, context?: CallContext): Promise<ImportPreview> {
    const lines = parseLines(text);
    if (lines.length === 0) throw new AppError('validation_failed', 'The file has no lines.');
    const devices = new Set<string>();
    const modules = new Set<string>();
    const deviceIds = [...new Set(lines.filter((l) => !l.refused).map((l) => l.deviceId))];
    const withModules = lines.some((l) => l.moduleId !== undefined);
    // A large file: the hub's ids read once (100k devices: 100 queries); else IN lists.
    const conditions =
      deviceIds.length > SCAN_ABOVE
        ? ['']
        : inLists(deviceIds, IN_LIST_ROOM).map((list) => ` WHERE deviceId IN ${list}`);
    for (const where of conditions) {
      for await (const row of rowsOf(this.hub, `SELECT deviceId FROM devices${where}`, context))
        devices.add(String(row['deviceId']));
      if (withModules)
        for await (const row of rowsOf(
          this.hub,
          `SELECT deviceId, moduleId FROM devices.modules${where}`,
          context,
        ))
          modules.add(`${String(row['deviceId'])}/${String(row['moduleId'])}`);
    }
    const all: ImportLine[] = lines.map((line) => ({
      line: line.line,
      deviceId: line.deviceId,
      ...(line.moduleId !== undefined ? { moduleId: line.moduleId } : {}),
      ...actionOf(
        line,
        line.moduleId !== undefined
          ? modules.has(`${line.deviceId}/${line.moduleId}`)
          : devices.has(line.deviceId),
      ),
    }));
    const counts: ImportCounts = { lines: all.length, create: 0, update: 0, delete: 0, refused: 0 };
    for (const item of all) counts[item.action]++;
    return {
      counts,
      items: all.slice(0, IMPORT_LISTED_MAX),
      truncated: all.length > IMPORT_LISTED_MAX,
    };
  }

  async startImport(text: string, actor: Actor, context?: CallContext): Promise<FleetJob> {
    const storage = this.store();
    const preview = await this.preview(text, context);
    const { container, sasUri } = await storage.newContainer('import');
    await storage.upload(container, DEVICES_BLOB, text);
    const job = await audited(
      this.audit,
      {
        actor,
        action: 'fleet.import',
        target: { deviceId: '' },
        change: { ...preview.counts },
      },
      () => this.hub.startImport(sasUri, sasUri, context),
    );
    await this.remember(job, 'import', container, actor, {
      counts: preview.counts,
      items: preview.items,
      truncated: preview.truncated,
    });
    return this.get(job.jobId, context);
  }

  private async remember(
    job: HubBulkJob,
    kind: 'export' | 'import',
    container: string,
    actor: Actor,
    extra: Partial<Pick<JobRow, 'filter' | 'include_keys' | 'counts' | 'items' | 'truncated'>>,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO fleet_jobs (job_id, kind, container, actor_id, actor_name, filter, include_keys,
         counts, items, truncated, status, progress)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        job.jobId,
        kind,
        container,
        actor.id,
        actor.name,
        extra.filter ?? null,
        extra.include_keys ?? null,
        extra.counts ? JSON.stringify(extra.counts) : null,
        extra.items ? JSON.stringify(extra.items) : null,
        extra.truncated ?? null,
        job.status,
        job.progress,
      ],
    );
  }

  private async row(jobId: string): Promise<JobRow> {
    const { rows } = await this.db.query<JobRow>('SELECT * FROM fleet_jobs WHERE job_id = $1', [
      jobId,
    ]);
    if (!rows[0]) throw new AppError('not_found', `Job ${jobId} was not started from Twinscope.`);
    return rows[0];
  }

  async list(): Promise<FleetJob[]> {
    const { rows } = await this.db.query<JobRow>(
      'SELECT * FROM fleet_jobs ORDER BY created_at DESC LIMIT 20',
    );
    // The list is what was last seen; a job's own page asks the hub.
    return rows.map((row) => this.view(row, false));
  }

  /** A job as the hub reports it now; once it ended, its outcome is kept. */
  async get(jobId: string, context?: CallContext): Promise<FleetJob> {
    let row = await this.row(jobId);
    if (ENDED.has(row.status)) return this.view(row, true);
    const job = await this.hub.getBulkJob(jobId, context);
    let items = row.items;
    const ended = ENDED.has(job.status);
    if (ended && row.kind === 'import' && row.items) {
      // Each listed line's outcome, from the job's errors log; the container (the file,
      // which may hold keys) is removed once read.
      const storage = this.store();
      const errors = await storage.readText(row.container, ERRORS_BLOB);
      items = outcomes(row.items, errors, job.status === 'completed');
      await storage.remove(row.container).catch(() => undefined);
    }
    // Only a job not yet seen ending is updated: a slower poll never moves it back.
    await this.db.query(
      `UPDATE fleet_jobs SET status = $2, progress = $3, ended_at = $4, failure_reason = $5, items = $6
       WHERE job_id = $1 AND status NOT IN ('completed', 'failed', 'cancelled')`,
      [
        jobId,
        job.status,
        job.progress,
        job.endTimeUtc ?? (ended ? new Date().toISOString() : null),
        job.failureReason ?? null,
        items ? JSON.stringify(items) : null,
      ],
    );
    row = await this.row(jobId);
    return this.view(row, true);
  }

  private view(row: JobRow, withItems: boolean): FleetJob {
    const items = row.items ?? undefined;
    return {
      jobId: row.job_id,
      kind: row.kind,
      status: statusOf(row.status),
      progress: row.progress,
      by: { id: row.actor_id, name: row.actor_name },
      createdAt: new Date(row.created_at).toISOString(),
      ...(row.ended_at ? { endedAt: new Date(row.ended_at).toISOString() } : {}),
      ...(row.failure_reason ? { failureReason: row.failure_reason } : {}),
      ...(row.filter ? { filter: row.filter } : {}),
      ...(row.include_keys !== null ? { includeKeys: row.include_keys } : {}),
      ...(row.counts ? { counts: row.counts } : {}),
      ...(items && items.some((i) => i.outcome)
        ? { failed: items.filter((i) => i.outcome === 'failed').length }
        : {}),
      ...(withItems && items ? { items, truncated: row.truncated ?? false } : {}),
    };
  }

  /**
   * An export's file: the whole fleet, or the devices its condition selects now. A file
   * with keys is a secret: its download is in the audit trail.
   */
  async download(
    jobId: string,
    actor: Actor,
    context?: CallContext,
  ): Promise<{ body: Readable; transform?: Transform; name: string }> {
    const job = await this.get(jobId, context);
    if (job.kind !== 'export') throw new AppError('bad_request', `Job ${jobId} is an import.`);
    if (job.status !== 'completed')
      throw new AppError('conflict', `The export has not completed (it is ${job.status}).`);
    const row = await this.row(jobId);
    const name = `devices-${jobId}.jsonl`;
    const open = async () => {
      const keep = row.filter ? await this.selected(row.filter, context) : undefined;
      const body = await this.store().open(row.container, DEVICES_BLOB);
      if (!body) throw new AppError('not_found', 'The export file is no longer in storage.');
      return { body, ...(keep ? { transform: filterLines(keep) } : {}), name };
    };
    if (!row.include_keys) return open();
    return audited(
      this.audit,
      {
        actor,
        action: 'fleet.export',
        target: { deviceId: '' },
        change: { download: jobId, includeKeys: true },
      },
      open,
    );
  }
}

/**
 * Each listed line's outcome: failed when the job's errors log names it; succeeded when the
 * job completed and its log (none: no errors) does not; unknown otherwise (the job stopped
 * part way, or its log could not be read).
 */
function outcomes(
  items: ImportLine[],
  errorsText: string | undefined | null,
  completed: boolean,
): ImportLine[] {
  const failures = new Map<string, string>();
  for (const raw of (errorsText ?? '').split(/\r?\n/)) {
    if (!raw.trim()) continue;
    try {
      const error = objectOf(JSON.parse(raw));
      const key = `${String(error['deviceId'] ?? '')}/${String(error['moduleId'] ?? '')}`;
      failures.set(key, String(error['errorStatus'] ?? error['errorCode'] ?? 'failed'));
    } catch {
      // A line the hub wrote that is not JSON says nothing about a device.
    }
  }
  const known = completed && errorsText !== null;
  return items.map((item) => {
    const reason = failures.get(`${item.deviceId}/${item.moduleId ?? ''}`);
    if (reason !== undefined) return { ...item, outcome: 'failed', reason };
    if (known) return { ...item, outcome: 'succeeded' };
    return {
      ...item,
      outcome: 'unknown',
      reason: completed
        ? "the job's errors log could not be read"
        : 'the job did not complete: this line may or may not have been applied',
    };
  });
}

/** Keeps the JSON lines whose `id` is in `keep`. */
function filterLines(keep: ReadonlySet<string>): Transform {
  let rest = '';
  // A character split across chunks is joined before it is read.
  const decoder = new StringDecoder('utf8');
  const wanted = (line: string) => {
    if (!line.trim()) return false;
    try {
      return keep.has(String(objectOf(JSON.parse(line))['id']));
    } catch {
      return false;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const lines = (rest + decoder.write(chunk)).split('\n');
      rest = lines.pop() ?? '';
      done(
        null,
        lines
          .filter(wanted)
          .map((l) => `${l}\n`)
          .join(''),
      );
    },
    flush(done) {
      rest += decoder.end();
      done(null, wanted(rest) ? `${rest}\n` : '');
    },
  });
}
