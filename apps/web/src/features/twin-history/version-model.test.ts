import type { Twin, TwinAtVersion } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { comparedVersions, restorePatch, versionOf } from './version-model.ts';

describe("a twin's versions", () => {
  it('when a link names a version, then it is opened; anything else is none', () => {
    expect(versionOf(new URLSearchParams('version=12'))).toBe(12);
    expect(versionOf(new URLSearchParams('version=0'))).toBeUndefined();
    expect(versionOf(new URLSearchParams('version=1.5'))).toBeUndefined();
    expect(versionOf(new URLSearchParams(''))).toBeUndefined();
  });

  it('when nothing is chosen, then the two newest are compared', () => {
    expect(comparedVersions([9, 7, 4], undefined, {})).toEqual({ a: 7, b: 9, options: [9, 7, 4] });
    expect(comparedVersions([3], undefined, {})).toEqual({ a: 3, b: 3, options: [3] });
    expect(comparedVersions([], undefined, {})).toEqual({
      a: undefined,
      b: undefined,
      options: [],
    });
  });

  it('when a version is linked, then it is compared with the one listed before it', () => {
    expect(comparedVersions([9, 7, 4], 7, {})).toMatchObject({ a: 4, b: 7 });
    expect(comparedVersions([9, 7, 4], 4, {})).toMatchObject({ a: 3, b: 4, options: [9, 7, 4, 3] });
  });

  it('when the operator chooses, then the choice wins and is offered even if not listed', () => {
    expect(comparedVersions([9, 7], 7, { a: 2, b: 9 })).toEqual({ a: 2, b: 9, options: [9, 7, 2] });
  });

  it('when restoring, then only what differs from now is in the patch', () => {
    const twin: Twin = {
      deviceId: 'd1',
      etag: 'e',
      version: 5,
      tags: { site: 'lyon', floor: 2 },
      properties: {
        desired: { fan: 2, $version: 4, $metadata: {} },
        reported: { fan: 2 },
      },
    };
    const then: TwinAtVersion = {
      version: 3,
      tags: { site: 'lyon', floor: 2 },
      desired: { fan: 1 },
      reported: {},
    };
    expect(restorePatch(twin, then)).toEqual({ desired: { fan: 1 } });
    expect(restorePatch(twin, { ...then, desired: { fan: 2 } })).toEqual({});
  });
});
