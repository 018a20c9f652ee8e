// The twin a write makes, as IoT Hub computes it: tags and desired merged or replaced,
// reported patched, the twin's rules checked, and the notification body the change carries.
// Pure: the registry checks the precondition, stamps the new etag and commits.
import {
  applyObjectPatch,
  patchSection,
  replaceSection,
  validateSection,
  validateSectionPatch,
  type JsonObject,
  type TwinSectionName,
  type TwinViolation,
} from '@twinscope/twin';
import { HubError } from '../errors.ts';
import type { TwinWrite } from './identity-input.ts';
import type { TwinState } from './model.ts';

/** IoT Hub's answer to a twin that breaks its rules (the first five, by path). */
export function violationError(violations: TwinViolation[]): HubError {
  const detail = violations
    .slice(0, 5)
    .map((v) => `${v.path}: ${v.message}`)
    .join(' ');
  return new HubError('ArgumentInvalid', `The twin breaks IoT Hub's rules. ${detail}`);
}

function checkSection(section: TwinSectionName, patch: JsonObject, result: JsonObject): void {
  const violations = validateSectionPatch(section, patch, result);
  if (violations.length > 0) throw violationError(violations);
}

/**
 * A changed twin: its next version (the etag is still the old one: the registry stamps a
 * new one), the body its change notification carries, and the desired patch devices get.
 */
export interface TwinChange {
  twin: TwinState;
  body: JsonObject;
  desiredPatch?: JsonObject;
}

/** `PATCH /twins/{id}`: tags and desired properties merged; null deletes, a null section clears it. */
export function patchedTwin(current: TwinState, patch: TwinWrite, at: string): TwinChange {
  const twin = { ...current };
  const body: JsonObject = {};
  let desiredPatch: JsonObject | undefined;
  if (patch.tags !== undefined) {
    const tagPatch = patch.tags ?? Object.fromEntries(Object.keys(twin.tags).map((k) => [k, null]));
    const tags = applyObjectPatch(twin.tags, tagPatch);
    checkSection('tags', tagPatch, tags);
    twin.tags = tags;
    body['tags'] = tagPatch;
  }
  if (patch.desired !== undefined) {
    // Clearing desired tells devices which keys went away: an explicit null for each.
    desiredPatch =
      patch.desired ?? Object.fromEntries(Object.keys(twin.desired.values).map((k) => [k, null]));
    const values = applyObjectPatch(twin.desired.values, desiredPatch);
    checkSection('desired', desiredPatch, values);
    twin.desired = patchSection(twin.desired, desiredPatch, { at, trackVersion: true });
    body['properties'] = {
      desired: {
        ...desiredPatch,
        $metadata: twin.desired.metadata,
        $version: twin.desired.version,
      },
    };
  }
  twin.version += 1;
  return {
    twin,
    body: { version: twin.version, ...body },
    ...(desiredPatch ? { desiredPatch: { ...desiredPatch, $version: twin.desired.version } } : {}),
  };
}

/**
 * `PUT /twins/{id}`: tags and desired properties replaced wholesale. Its notification body is
 * the whole rendered twin, so the registry renders it once the new etag is on.
 */
export function replacedTwin(
  current: TwinState,
  replacement: TwinWrite,
  at: string,
): Omit<TwinChange, 'body'> {
  const tags = replacement.tags ?? {};
  const desired = replacement.desired ?? {};
  const violations = [...validateSection('tags', tags), ...validateSection('desired', desired)];
  if (violations.length > 0) throw violationError(violations);
  const removed = Object.fromEntries(
    Object.keys(current.desired.values)
      .filter((key) => !Object.hasOwn(desired, key))
      .map((key) => [key, null]),
  );
  const twin = {
    ...current,
    tags,
    desired: replaceSection(current.desired, desired, { at, trackVersion: true }),
    version: current.version + 1,
  };
  return {
    twin,
    desiredPatch: { ...removed, ...twin.desired.values, $version: twin.desired.version },
  };
}

/** A reported-properties patch from the device or module itself. */
export function reportedTwin(current: TwinState, patch: JsonObject, at: string): TwinChange {
  const values = applyObjectPatch(current.reported.values, patch);
  checkSection('reported', patch, values);
  const reported = patchSection(current.reported, patch, { at, trackVersion: false });
  const twin = { ...current, reported, version: current.version + 1 };
  return {
    twin,
    body: {
      version: twin.version,
      properties: {
        reported: { ...patch, $metadata: reported.metadata, $version: reported.version },
      },
    },
  };
}
