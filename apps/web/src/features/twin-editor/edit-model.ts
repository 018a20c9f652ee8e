import type { Twin } from '@twinscope/contract';
import { parseJsonText } from '../../lib/json-text.ts';
import {
  applyObjectPatch,
  isJsonObject,
  minimalPatch,
  patchedPaths,
  stripReadOnly,
  validateSectionPatch,
  type JsonObject,
  type TwinViolation,
} from '@twinscope/twin';

/** What the operator edits: tags and desired properties, nothing read-only. */
export interface EditableDoc {
  tags: JsonObject;
  properties: { desired: JsonObject };
}

export function editableFrom(twin: Twin): EditableDoc {
  return {
    tags: twin.tags,
    properties: { desired: stripReadOnly(twin.properties.desired) },
  };
}

export function formatDoc(doc: EditableDoc): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export type ParseResult =
  { ok: true; doc: EditableDoc } | { ok: false; message: string; offset?: number };

/** Parses the editor text; anything but `{ tags, properties: { desired } }` is refused. */
export function parseEditable(text: string): ParseResult {
  const parsed = parseJsonText(text, 'The document');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!isJsonObject(value))
    return {
      ok: false,
      message: 'The document must be a JSON object with tags and properties.desired.',
    };
  const extra = Object.keys(value).filter((key) => key !== 'tags' && key !== 'properties');
  if (extra.length > 0) {
    return {
      ok: false,
      message: `Only tags and properties.desired can be edited here; remove ${extra.map((k) => `"${k}"`).join(', ')}.`,
    };
  }
  const properties = value['properties'] ?? { desired: {} };
  if (!isJsonObject(properties))
    return { ok: false, message: 'properties must be an object holding desired.' };
  const other = Object.keys(properties).filter((key) => key !== 'desired');
  if (other.length > 0) {
    return {
      ok: false,
      message: other.includes('reported')
        ? 'Reported properties are written by the device or module and cannot be edited; remove properties.reported.'
        : `Only properties.desired can be edited; remove ${other.map((k) => `"${k}"`).join(', ')}.`,
    };
  }
  const tags = value['tags'] ?? {};
  const desired = properties['desired'] ?? {};
  if (!isJsonObject(tags)) return { ok: false, message: 'tags must be a JSON object.' };
  if (!isJsonObject(desired))
    return { ok: false, message: 'properties.desired must be a JSON object.' };
  return { ok: true, doc: { tags, properties: { desired } } };
}

export interface PendingChange {
  path: string;
  kind: 'add' | 'change' | 'delete';
}

export interface Review {
  /** Exactly what will be sent: changed keys only, deletions as null. */
  patch: { tags?: JsonObject; desired?: JsonObject };
  changes: PendingChange[];
  violations: TwinViolation[];
  empty: boolean;
}

function hasPath(doc: JsonObject, path: string): boolean {
  let node: unknown = doc;
  for (const key of path.split('.')) {
    if (!isJsonObject(node) || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

/** The patch between what the server had and what the operator typed, checked against the rules. */
export function review(base: EditableDoc, edited: EditableDoc): Review {
  const tags = minimalPatch(base.tags, edited.tags);
  const desired = minimalPatch(base.properties.desired, edited.properties.desired);
  const patch: Review['patch'] = {};
  const changes: PendingChange[] = [];
  const violations: TwinViolation[] = [];
  const sections = [
    ['tags', tags, base.tags, 'tags'],
    ['desired', desired, base.properties.desired, 'properties.desired'],
  ] as const;
  for (const [name, sectionPatch, before, prefix] of sections) {
    if (Object.keys(sectionPatch).length === 0) continue;
    patch[name] = sectionPatch;
    for (const { path, deleted } of patchedPaths(sectionPatch)) {
      changes.push({
        path: `${prefix}.${path}`,
        kind: deleted ? 'delete' : hasPath(before, path) ? 'change' : 'add',
      });
    }
    violations.push(
      ...validateSectionPatch(name, sectionPatch, applyObjectPatch(before, sectionPatch)),
    );
  }
  return { patch, changes, violations, empty: changes.length === 0 };
}

/**
 * Re-applies the operator's edits (base → edited) on top of a newer server document, so
 * nothing typed is lost when someone else saved first.
 */
export function rebase(base: EditableDoc, edited: EditableDoc, latest: EditableDoc): EditableDoc {
  return {
    tags: applyObjectPatch(latest.tags, minimalPatch(base.tags, edited.tags)),
    properties: {
      desired: applyObjectPatch(
        latest.properties.desired,
        minimalPatch(base.properties.desired, edited.properties.desired),
      ),
    },
  };
}

/** Which top-level keys of tags and desired differ between two server documents. */
export function changedKeys(before: EditableDoc, after: EditableDoc): string[] {
  return [
    ...patchedPaths(minimalPatch(before.tags, after.tags)).map((c) => `tags.${c.path}`),
    ...patchedPaths(minimalPatch(before.properties.desired, after.properties.desired)).map(
      (c) => `properties.desired.${c.path}`,
    ),
  ];
}
