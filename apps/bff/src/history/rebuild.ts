import { applyObjectPatch, isJsonObject, type JsonObject } from '@twinscope/twin';

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

const object = (value: unknown): JsonObject => (isJsonObject(value) ? value : {});

/** A section without IoT Hub's bookkeeping keys (`$metadata`, `$version`). */
function section(value: unknown): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(object(value)))
    if (!key.startsWith('$')) out[key] = item;
  return out;
}

/** A whole twin (a snapshot, or the body of a replace) as a document. */
export function docOf(twin: unknown): TwinDoc {
  const t = object(twin);
  const properties = object(t['properties']);
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
    const properties = object(change.patch['properties']);
    return {
      tags: whole.tags,
      desired: whole.desired,
      reported: properties['reported'] === undefined ? doc.reported : whole.reported,
    };
  }
  const properties = object(change.patch['properties']);
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
