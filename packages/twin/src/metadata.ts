import { isJsonObject, objectOf, own, setOwn, type JsonObject, type JsonValue } from './json.ts';

/** The "never updated" timestamp IoT Hub puts on a new twin's sections. */
export const NEVER = '0001-01-01T00:00:00Z';

/**
 * One twin section as the hub keeps it: the values, a `$metadata` tree that mirrors every
 * object level of the values, and the section's `$version`.
 */
export interface SectionState {
  values: JsonObject;
  /** Wire form: `$lastUpdated` (and for desired `$lastUpdatedVersion`) plus one child per key. */
  metadata: JsonObject;
  version: number;
}

export interface Stamp {
  /** ISO 8601 UTC time of the change. */
  at: string;
  /** Desired metadata records the section `$version` of each change; reported does not. */
  trackVersion: boolean;
}

export function emptySection(): SectionState {
  return { values: {}, metadata: { $lastUpdated: NEVER }, version: 1 };
}

function stampNode(node: JsonObject, stamp: Stamp, version: number): JsonObject {
  node['$lastUpdated'] = stamp.at;
  if (stamp.trackVersion) node['$lastUpdatedVersion'] = version;
  return node;
}

/** A fresh metadata tree for a value written at once. */
export function metadataFor(value: JsonValue, stamp: Stamp, version: number): JsonObject {
  const node = stampNode({}, stamp, version);
  if (isJsonObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      setOwn(node, key, metadataFor(child, stamp, version));
    }
  }
  return node;
}

function withoutNulls(value: JsonValue): JsonValue {
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child !== null) setOwn(out, key, withoutNulls(child));
  }
  return out;
}

function patchLevel(
  values: JsonObject,
  metadata: JsonObject,
  patch: JsonObject,
  stamp: Stamp,
  version: number,
): { values: JsonObject; metadata: JsonObject } {
  const nextValues: JsonObject = { ...values };
  const nextMetadata: JsonObject = { ...metadata };
  for (const [key, change] of Object.entries(patch)) {
    if (change === null) {
      delete nextValues[key];
      delete nextMetadata[key];
      continue;
    }
    const current = own(nextValues, key);
    const currentMetadata = own(nextMetadata, key);
    if (isJsonObject(change) && isJsonObject(current)) {
      const base = isJsonObject(currentMetadata)
        ? currentMetadata
        : metadataFor(current, stamp, version);
      const child = patchLevel(current, base, change, stamp, version);
      setOwn(nextValues, key, child.values);
      setOwn(nextMetadata, key, child.metadata);
    } else {
      const written = withoutNulls(change);
      setOwn(nextValues, key, written);
      setOwn(nextMetadata, key, metadataFor(written, stamp, version));
    }
  }
  stampNode(nextMetadata, stamp, version);
  return { values: nextValues, metadata: nextMetadata };
}

/** Applies a merge patch to a section: values, `$metadata` of every touched level, `$version` + 1. */
export function patchSection(state: SectionState, patch: JsonObject, stamp: Stamp): SectionState {
  const version = state.version + 1;
  const next = patchLevel(state.values, state.metadata, patch, stamp, version);
  return { ...next, version };
}

/** Replaces a section's values wholesale (a twin PUT): fresh metadata, `$version` + 1. */
export function replaceSection(
  state: SectionState,
  values: JsonObject,
  stamp: Stamp,
): SectionState {
  const version = state.version + 1;
  const clean = objectOf(withoutNulls(values));
  return { values: clean, metadata: metadataFor(clean, stamp, version), version };
}

/** The section as IoT Hub sends it: values plus `$metadata` and `$version`. */
export function renderSection(state: SectionState): JsonObject {
  return { ...state.values, $metadata: state.metadata, $version: state.version };
}

/**
 * Whether a name in a twin section is the service's bookkeeping (`$metadata`, `$version`)
 * rather than a property: IoT Hub forbids "$" in property names, so nothing else starts so.
 */
export function isBookkeepingKey(key: string): boolean {
  return key.startsWith('$');
}

/** Drops the read-only `$metadata` and `$version` that clients may echo back in a patch. */
export function stripReadOnly(section: JsonObject): JsonObject {
  const { $metadata: _metadata, $version: _version, ...rest } = section;
  return rest;
}
