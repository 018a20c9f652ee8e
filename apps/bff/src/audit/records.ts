import { createHash, randomUUID } from 'node:crypto';
import type { AuditAction, AuditEntry, AuditFilter } from '@twinscope/contract';
import type { JsonObject } from '@twinscope/twin';

/**
 * The audit trail's records: what a write's attempt and outcome hold, and how a record is
 * a row of \`audit_entries\` (values always travel as parameters).
 */

export type { AuditFilter };

export interface Actor {
  id: string;
  name: string;
}

export interface AuditStart {
  actor: Actor;
  action: AuditAction;
  target: AuditEntry['target'];
  change: JsonObject;
  before?: AuditEntry['before'];
  revert?: AuditEntry['revert'];
  revertOf?: string;
}

export interface AuditOutcome {
  result: 'succeeded' | 'refused' | 'failed' | 'unknown';
  after?: AuditEntry['after'];
  response?: AuditEntry['response'];
  error?: { code: string; message: string };
}

/**
 * The most a record keeps of a change or of its revert patch. IoT Hub's twin rules already
 * bound a valid change; above this, the record keeps the patch's size and digest instead.
 */
export const MAX_RECORDED_BYTES = 32 * 1024;

/** The size and digest a record keeps of a patch too large to keep whole. */
function capped(patch: JsonObject): { kept: JsonObject; digest?: AuditEntry['changeDigest'] } {
  const text = JSON.stringify(patch);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_RECORDED_BYTES) return { kept: patch };
  return {
    kept: {},
    digest: { sha256: createHash('sha256').update(text).digest('hex'), bytes },
  };
}

export interface Row {
  seq: number;
  id: string;
  at: Date;
  actor_id: string;
  actor_name: string;
  action: AuditAction;
  device_id: string;
  module_id: string;
  configuration_id: string | null;
  rollout_id: string | null;
  provisioning_kind: 'group' | 'individual' | 'registration' | null;
  provisioning_id: string | null;
  change: JsonObject;
  change_digest: AuditEntry['changeDigest'] | null;
  before: AuditEntry['before'] | null;
  after: AuditEntry['after'] | null;
  revert: AuditEntry['revert'] | null;
  revert_omitted: boolean;
  revert_of: string | null;
  response: AuditEntry['response'] | null;
  result: AuditEntry['result'];
  error: AuditEntry['error'] | null;
  finished_at: Date | null;
}

/** One record as the API shows it. */
export function entryOf(row: Row): AuditEntry & { seq: number } {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at.toISOString(),
    actor: { id: row.actor_id, name: row.actor_name },
    action: row.action,
    target: {
      deviceId: row.device_id,
      ...(row.module_id ? { moduleId: row.module_id } : {}),
      ...(row.configuration_id ? { configurationId: row.configuration_id } : {}),
      ...(row.rollout_id ? { rolloutId: row.rollout_id } : {}),
      ...(row.provisioning_kind && row.provisioning_id !== null
        ? { provisioning: { kind: row.provisioning_kind, id: row.provisioning_id } }
        : {}),
    },
    change: row.change,
    ...(row.change_digest ? { changeDigest: row.change_digest } : {}),
    ...(row.before ? { before: row.before } : {}),
    ...(row.after ? { after: row.after } : {}),
    ...(row.revert ? { revert: row.revert } : {}),
    ...(row.revert_omitted ? { revertOmitted: true } : {}),
    ...(row.revert_of ? { revertOf: row.revert_of } : {}),
    ...(row.response ? { response: row.response } : {}),
    result: row.result,
    ...(row.error ? { error: row.error } : {}),
    ...(row.finished_at ? { finishedAt: row.finished_at.toISOString() } : {}),
  };
}

export const strip = ({ seq: _seq, ...entry }: AuditEntry & { seq: number }): AuditEntry => entry;

export const COLUMNS = `seq, id, at, actor_id, actor_name, action, device_id, module_id, configuration_id, rollout_id, provisioning_kind,
  provisioning_id, change, change_digest, before, after, revert, revert_omitted, revert_of, response, result, error,
  finished_at`;

const INSERT_INTO = `INSERT INTO audit_entries (id, at, actor_id, actor_name, action, device_id,
  module_id, change, change_digest, before, revert, revert_omitted, revert_of, result, after,
  response, error, finished_at, configuration_id, rollout_id, provisioning_kind, provisioning_id)
  VALUES`;
const PER_ROW = 22;
/** One INSERT of `rows` records (their values one after another). */
export const insertOf = (rows: number) =>
  `${INSERT_INTO} ${Array.from(
    { length: rows },
    (_, r) =>
      `(${Array.from({ length: PER_ROW }, (_, c) => `$${r * PER_ROW + c + 1}`).join(', ')})`,
  ).join(', ')} ON CONFLICT (id) DO NOTHING`;
export const INSERT = insertOf(1);

/** The row values of a record, attempt and (when known) outcome. */
export function values(entry: AuditEntry): unknown[] {
  return [
    entry.id,
    entry.at,
    entry.actor.id,
    entry.actor.name,
    entry.action,
    entry.target.deviceId,
    entry.target.moduleId ?? '',
    entry.change,
    entry.changeDigest ?? null,
    entry.before ?? null,
    entry.revert ?? null,
    entry.revertOmitted ?? false,
    entry.revertOf ?? null,
    entry.result,
    entry.after ?? null,
    entry.response ?? null,
    entry.error ?? null,
    entry.finishedAt ?? null,
    entry.target.configurationId ?? null,
    entry.target.rolloutId ?? null,
    entry.target.provisioning?.kind ?? null,
    entry.target.provisioning?.id ?? null,
  ];
}

/** WHERE conditions and their parameters for a filter (values are always parameters). */
export function where(filter: AuditFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.actor)
    conditions.push(
      `(actor_id = ${param(filter.actor)} OR actor_name ILIKE ${param(`%${filter.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)})`,
    );
  if (filter.deviceId) conditions.push(`device_id = ${param(filter.deviceId)}`);
  if (filter.kind) conditions.push(`action LIKE ${param(`${filter.kind}.%`)}`);
  if (filter.from) conditions.push(`at >= ${param(filter.from)}`);
  if (filter.to) conditions.push(`at < ${param(filter.to)}`);
  return conditions;
}

/** A write's record as its attempt is committed (its outcome reads unknown until known). */
export function attemptOf(start: AuditStart): AuditEntry {
  const change = capped(start.change);
  const revertText = start.revert ? JSON.stringify(start.revert) : '';
  const keepRevert =
    start.revert !== undefined && Buffer.byteLength(revertText) <= MAX_RECORDED_BYTES;
  return {
    id: randomUUID(),
    at: new Date().toISOString(),
    actor: start.actor,
    action: start.action,
    target: start.target,
    change: change.kept,
    ...(change.digest ? { changeDigest: change.digest } : {}),
    ...(start.before ? { before: start.before } : {}),
    ...(keepRevert ? { revert: start.revert } : {}),
    ...(start.revert && !keepRevert ? { revertOmitted: true } : {}),
    ...(start.revertOf ? { revertOf: start.revertOf } : {}),
    result: 'unknown',
  };
}
