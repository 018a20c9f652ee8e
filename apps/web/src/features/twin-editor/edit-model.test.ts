import { describe, expect, it } from 'vitest';
import type { Twin } from '@twinscope/contract';
import { changedKeys, editableFrom, parseEditable, rebase, review } from './edit-model.ts';

const twin: Twin = {
  deviceId: 'd1',
  etag: 'e1',
  version: 4,
  tags: { site: 'berlin', floor: 2 },
  properties: {
    desired: { mode: 'eco', fan: { speed: 1 }, $metadata: { $lastUpdated: 'x' }, $version: 3 },
    reported: { mode: 'eco', $version: 9 },
  },
};

describe('twin edit model', () => {
  it('when a twin is opened, then only tags and desired (without $metadata/$version) are editable', () => {
    expect(editableFrom(twin)).toEqual({
      tags: { site: 'berlin', floor: 2 },
      properties: { desired: { mode: 'eco', fan: { speed: 1 } } },
    });
  });

  it('when the text is not JSON or has read-only parts, then parsing says what to fix', () => {
    const broken = parseEditable('{ "tags": { "a": 1, } }');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.message).toMatch(/not valid JSON/);
    const reported = parseEditable(
      '{ "tags": {}, "properties": { "desired": {}, "reported": {} } }',
    );
    expect(!reported.ok && reported.message).toMatch(
      /Reported properties are written by the device/,
    );
    const extra = parseEditable('{ "tags": {}, "deviceId": "x" }');
    expect(!extra.ok && extra.message).toMatch(/"deviceId"/);
    expect(parseEditable('{ "tags": [] }').ok).toBe(false);
  });

  it('when keys are changed, added and removed, then the review lists exactly that and the patch holds only those keys', () => {
    const base = editableFrom(twin);
    const edited = {
      tags: { site: 'lyon', floor: 2, wing: 'east' },
      properties: { desired: { fan: { speed: 1 } } },
    };
    const result = review(base, edited);
    expect(result.patch).toEqual({ tags: { site: 'lyon', wing: 'east' }, desired: { mode: null } });
    expect(result.changes).toEqual([
      { path: 'tags.site', kind: 'change' },
      { path: 'tags.wing', kind: 'add' },
      { path: 'properties.desired.mode', kind: 'delete' },
    ]);
    expect(result.violations).toEqual([]);
    expect(review(base, base).empty).toBe(true);
  });

  it('when an edit breaks a twin rule, then the review carries the violation and its location', () => {
    const result = review(editableFrom(twin), {
      tags: { 'bad.key': 1 },
      properties: { desired: {} },
    });
    expect(result.violations[0]).toMatchObject({
      path: 'tags["bad.key"]',
      location: ['tags', 'bad.key'],
    });
  });

  it('when someone else saved first, then rebasing keeps their change and re-applies mine', () => {
    const base = editableFrom(twin);
    const mine = {
      tags: { site: 'berlin', floor: 3 },
      properties: { desired: { mode: 'eco', fan: { speed: 1 } } },
    };
    const theirs = {
      tags: { site: 'berlin', floor: 2, owner: 'ops' },
      properties: { desired: { mode: 'boost', fan: { speed: 1 } } },
    };
    expect(rebase(base, mine, theirs)).toEqual({
      tags: { site: 'berlin', floor: 3, owner: 'ops' },
      properties: { desired: { mode: 'boost', fan: { speed: 1 } } },
    });
    expect(changedKeys(base, theirs)).toEqual(['tags.owner', 'properties.desired.mode']);
  });
});
