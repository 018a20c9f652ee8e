import type { Twin, TwinAtVersion } from '@twinscope/contract';
import { minimalPatch, stripReadOnly, type JsonObject } from '@twinscope/twin';

/** The version a twin page's link opens (`?version=12`), if it names one. */
export function versionOf(search: URLSearchParams): number | undefined {
  const version = Number(search.get('version'));
  return Number.isInteger(version) && version > 0 ? version : undefined;
}

/** A version as the diff shows it: tags, desired and reported properties. */
export function versionText(doc: TwinAtVersion): string {
  return JSON.stringify(
    { tags: doc.tags, properties: { desired: doc.desired, reported: doc.reported } },
    null,
    2,
  );
}

/** The patch that takes the twin's tags and desired properties back to `then`. */
export function restorePatch(
  twin: Twin,
  then: TwinAtVersion,
): { tags?: JsonObject; desired?: JsonObject } {
  const tags = minimalPatch(twin.tags, then.tags);
  const desired = minimalPatch(stripReadOnly(twin.properties.desired), then.desired);
  return {
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(Object.keys(desired).length > 0 ? { desired } : {}),
  };
}

/**
 * The two versions compared, A (older) and B: those chosen, else a linked version and the
 * one listed before it, else the two newest; and every version the selects offer, newest
 * first, with A and B among them even when they are not listed (yet).
 */
export function comparedVersions(
  listed: readonly number[],
  focus: number | undefined,
  chosen: { a?: number | undefined; b?: number | undefined },
): { a: number | undefined; b: number | undefined; options: number[] } {
  const focusAt = listed.indexOf(focus ?? Number.NaN);
  const a =
    chosen.a ??
    (focus !== undefined ? (listed[focusAt + 1] ?? focus - 1) : (listed[1] ?? listed[0]));
  const b = chosen.b ?? focus ?? listed[0];
  const options = [...new Set([...listed, ...[a, b].filter((v) => v !== undefined)])].sort(
    (x, y) => y - x,
  );
  return { a, b, options };
}
