import { describe, expect, it } from 'vitest';
import { sectionSize, TWIN_LIMITS, validateSection, validateSectionPatch } from './rules.ts';
import type { JsonObject } from './json.ts';

function nested(depth: number): JsonObject {
  let doc: JsonObject = { leaf: 1 };
  for (let i = depth; i >= 1; i--) doc = { [`l${i}`]: doc };
  return doc;
}

describe('twin rules', () => {
  it('when a document follows every rule, then it has no violations', () => {
    const doc = { site: 'berlin', floors: [1, 2], limits: { max: 4503599627370495, ok: true } };
    expect(validateSection('tags', doc)).toEqual([]);
  });

  it('when keys carry ".", "$", a space or a control character, then each is reported with its path', () => {
    const violations = validateSection('desired', {
      'a.b': 1,
      nested: { $ref: 1, 'with space': 2, 'tab\tkey': 3 },
      '': 4,
    });
    expect(violations.map((v) => [v.path, v.code])).toEqual([
      ['properties.desired["a.b"]', 'key-forbidden-character'],
      ['properties.desired.nested["$ref"]', 'key-forbidden-character'],
      ['properties.desired.nested["with space"]', 'key-forbidden-character'],
      ['properties.desired.nested["tab\\tkey"]', 'key-forbidden-character'],
      ['properties.desired[""]', 'key-empty'],
    ]);
  });

  it('when a key is longer than 1 KB, then it is refused', () => {
    const [violation] = validateSection('tags', { ['k'.repeat(1025)]: 1 });
    expect(violation?.code).toBe('key-too-long');
    expect(validateSection('tags', { ['k'.repeat(1024)]: 1 })).toEqual([]);
  });

  it('when objects nest ten levels, then it passes; at eleven it is refused at the deepest object', () => {
    expect(validateSection('desired', nested(10))).toEqual([]);
    const violations = validateSection('desired', nested(11));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({
      code: 'depth-exceeded',
      path: 'properties.desired.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11',
      location: [
        'properties',
        'desired',
        'l1',
        'l2',
        'l3',
        'l4',
        'l5',
        'l6',
        'l7',
        'l8',
        'l9',
        'l10',
        'l11',
      ],
    });
  });

  it('when a string is over 4 KB or an integer is out of range, then it is refused', () => {
    const codes = validateSection('reported', {
      long: 'x'.repeat(TWIN_LIMITS.stringBytes + 1),
      big: 4503599627370496,
      small: -4503599627370497,
      edge: -4503599627370496,
      fraction: 12.75,
    }).map((v) => `${v.path}:${v.code}`);
    expect(codes).toEqual([
      'properties.reported.long:string-too-long',
      'properties.reported.big:integer-out-of-range',
      'properties.reported.small:integer-out-of-range',
    ]);
  });

  it('when null appears in a document it is refused, but in a patch it means delete', () => {
    expect(validateSection('tags', { gone: null })[0]?.code).toBe('null-not-allowed');
    expect(validateSectionPatch('tags', { gone: null, keep: { alsoGone: null } })).toEqual([]);
  });

  it('when the size is computed, then keys, string characters, 8-byte numbers and 4-byte booleans add up', () => {
    // "site"(4) + "berlin"(6) + "n"(1) + 8 + "on"(2) + 4 + "o"(1) + "k"(1) + "ab"(2 without the control char)
    expect(sectionSize({ site: 'berlin', n: 3, on: true, o: { k: 'a\u0000b' } })).toBe(29);
    expect(sectionSize({ a: 1, $version: 4, $metadata: { $lastUpdated: 'x' } })).toBe(9);
  });

  it('when a section exceeds its size limit, then the whole section is reported', () => {
    const big = { blob: 'x'.repeat(4000), blob2: 'x'.repeat(4000), blob3: 'x'.repeat(300) };
    expect(validateSection('tags', big).map((v) => v.code)).toEqual(['section-too-large']);
    expect(validateSection('desired', big)).toEqual([]);
    const patch = { extra: 'y'.repeat(10) };
    expect(validateSectionPatch('tags', patch, { ...big, ...patch })[0]).toMatchObject({
      path: 'tags',
      code: 'section-too-large',
    });
  });
});
