import { applyObjectPatch, objectOf, type JsonObject } from '@twinscope/twin';
import type { Sql } from '../adapters/store/sql.ts';

/** A twin's three sections as the history rebuilds them (no `$metadata`, no `$version`). */
export interface TwinDoc {
  tags: JsonObject;
  desired: JsonObject;
  reported: JsonObject;
}

/** A stored change: what the hub's event said, at the twin version it produced. */
export interface StoredChange {
  version: number;
  opType: string;
  /** Null when the event was too large to keep: the versions from it on cannot be rebuilt. */
  patch: JsonObject | null;
}

/** A section without IoT Hub's bookkeeping keys (`$metadata`, `$version`). */
function section(value: unknown): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(objectOf(value)))
    if (!key.startsWith('$')) out[key] = item;
  return out;
}

/** A whole twin (a snapshot, or the body of a replace) as a document. */
export function docOf(twin: unknown): TwinDoc {
  const t = objectOf(twin);
  const properties = objectOf(t['properties']);
  return {
    tags: section(t['tags']),
    desired: section(properties['desired']),
    reported: section(properties['reported']),
  };
}

/**
 * One change applied the way the hub applied it: an update merges what it names (null
 * deletes), a replace's body is the whole twin.
 */
export function applyChange(doc: TwinDoc, change: { opType: string; patch: JsonObject }): TwinDoc {
  if (change.opType === 'replaceTwin') {
    const whole = docOf(change.patch);
    const properties = objectOf(change.patch['properties']);
    return {
      tags: whole.tags,
      desired: whole.desired,
      reported: properties['reported'] === undefined ? doc.reported : whole.reported,
    };
  }
  const properties = objectOf(change.patch['properties']);
  return {
    tags:
      change.patch['tags'] === undefined
        ? doc.tags
        : applyObjectPatch(doc.tags, section(change.patch['tags'])),
    desired:
      properties['desired'] === undefined
        ? doc.desired
        : applyObjectPatch(doc.desired, section(properties['desired'])),
    reported:
      properties['reported'] === undefined
        ? doc.reported
        : applyObjectPatch(doc.reported, section(properties['reported'])),
  };
}

/**
 * The twin at `version`: the snapshot, then every stored change after it up to that
 * version, which must follow one another. A missing version or a change too large to keep
 * makes it a gap: never papered over.
 */
export function rebuild(
  snapshot: { version: number; doc: TwinDoc },
  changes: StoredChange[],
  version: number,
): { ok: true; doc: TwinDoc } | { ok: false; reason: string } {
  if (version < snapshot.version) return { ok: false, reason: 'before the snapshot' };
  let doc = snapshot.doc;
  let at = snapshot.version;
  for (const change of [...changes].sort((a, b) => a.version - b.version)) {
    if (change.version <= at) continue;
    if (change.version > version) break;
    if (change.version !== at + 1)
      return {
        ok: false,
        reason:
          change.version - 1 === at + 1
            ? `version ${at + 1} was never seen`
            : `versions ${at + 1}–${change.version - 1} were never seen`,
      };
    if (!change.patch)
      return { ok: false, reason: `version ${change.version} was too large to keep` };
    doc = applyChange(doc, { opType: change.opType, patch: change.patch });
    at = change.version;
  }
  if (at !== version) return { ok: false, reason: `version ${version} was never seen` };
  return { ok: true, doc };
}

/**
 * A twin at a version as the store holds it: its newest snapshot at or before the version
 * and the changes after it. `no-snapshot` when the version is older than every snapshot.
 */
export async function rebuildFromStore(
  sql: Sql,
  ref: { deviceId: string; moduleId?: string | undefined },
  version: number,
): Promise<{ ok: true; doc: TwinDoc } | { ok: false; reason: string; noSnapshot?: true }> {
  const args = [ref.deviceId, ref.moduleId ?? ''];
  const snapshot = await sql.query<{ version: number; twin: unknown }>(
    `SELECT version, twin FROM twin_snapshots
     WHERE device_id = $1 AND module_id = $2 AND version <= $3
     ORDER BY version DESC LIMIT 1`,
    [...args, version],
  );
  const base = snapshot.rows[0];
  if (!base) return { ok: false, reason: 'no snapshot at or before it', noSnapshot: true };
  const changes = await sql.query<{ version: number; op_type: string; patch: JsonObject | null }>(
    `SELECT version, op_type, patch FROM twin_changes
     WHERE device_id = $1 AND module_id = $2 AND version > $3 AND version <= $4
     ORDER BY version`,
    [...args, base.version, version],
  );
  return rebuild(
    { version: base.version, doc: docOf(base.twin) },
    changes.rows.map((c) => ({ version: c.version, opType: c.op_type, patch: c.patch })),
    version,
  );
}

/** A rebuilt document as a snapshot stores it: the shape of a twin read from the hub. */
export const snapshotOf = (doc: TwinDoc) => ({
  tags: doc.tags,
  properties: { desired: doc.desired, reported: doc.reported },
});
