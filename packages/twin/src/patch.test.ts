import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMergePatch,
  applyObjectPatch,
  holdsPatch,
  minimalPatch,
  patchedPaths,
} from './patch.ts';
import type { JsonObject, JsonValue } from './json.ts';

const key = fc.string({ minLength: 1, maxLength: 6 });
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.string({ maxLength: 8 }),
);
// Twins never store null, so generated documents hold none (arrays may hold anything).
const { doc } = fc.letrec<{ doc: JsonObject; value: JsonValue }>((tie) => ({
  doc: fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    tie('doc'),
    fc.array(fc.oneof(leaf, fc.constant(null)), { maxLength: 3 }),
  ),
}));

describe('merge patch', () => {
  it('when a patch holds null, then the key is deleted; objects merge; arrays replace', () => {
    const before = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], keep: 'x' };
    const after = applyMergePatch(before, { a: null, b: { c: null, e: 4 }, list: [3] });
    expect(after).toEqual({ b: { d: 3, e: 4 }, list: [3], keep: 'x' });
    expect(before).toEqual({ a: 1, b: { c: 2, d: 3 }, list: [1, 2], keep: 'x' });
  });

  it('when null targets a key that does not exist, then nothing else changes', () => {
    expect(applyMergePatch({ a: { b: 1 } }, { a: { missing: null } })).toEqual({ a: { b: 1 } });
  });

  it('when only one key changes, then the minimal patch holds only that key', () => {
    const before = { mode: 'eco', fan: { speed: 1, dir: 'in' }, untouched: { deep: [1] } };
    const after = { mode: 'eco', fan: { speed: 2, dir: 'in' }, untouched: { deep: [1] } };
    expect(minimalPatch(before, after)).toEqual({ fan: { speed: 2 } });
  });

  it('when keys are removed, then the minimal patch carries them as null', () => {
    expect(minimalPatch({ a: 1, b: { c: 1, d: 2 } }, { b: { d: 2 } })).toEqual({
      a: null,
      b: { c: null },
    });
    expect(patchedPaths({ a: null, b: { c: null, e: 1 } })).toEqual([
      { path: 'a', deleted: true },
      { path: 'b.c', deleted: true },
      { path: 'b.e', deleted: false },
    ]);
  });

  it('when a key is named __proto__, then it is merged and diffed as data, never as a prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as JsonObject;
    const result = applyObjectPatch({}, patch);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result).sort()).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.stringify(minimalPatch({}, result))).toBe(JSON.stringify(result));
    expect(JSON.stringify(minimalPatch(result, { a: 1 }))).toBe('{"__proto__":null}');
  });

  it('for random documents, applying the minimal patch yields exactly the edited document', () => {
    fc.assert(
      fc.property(doc, doc, (before, edited) => {
        expect(applyObjectPatch(before, minimalPatch(before, edited))).toEqual(edited);
      }),
      { numRuns: 500 },
    );
  });

  it('for random documents, the minimal patch of a document against itself is empty', () => {
    fc.assert(
      fc.property(doc, (d) => {
        expect(minimalPatch(d, structuredClone(d))).toEqual({});
      }),
    );
  });
});

describe('holding a patch', () => {
  it('when a patch has been applied, then the document holds it; before, only if nothing would change', () => {
    fc.assert(
      fc.property(doc, doc, (a, b) => {
        const patch = minimalPatch(a, b);
        expect(holdsPatch(applyObjectPatch(a, patch), patch)).toBe(true);
        if (Object.keys(patch).length === 0) expect(holdsPatch(a, patch)).toBe(true);
      }),
    );
    expect(holdsPatch({ a: { b: 1 }, c: 2 }, { a: { b: 1 } })).toBe(true);
    expect(holdsPatch({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    // null means absent; a value of another type differs.
    expect(holdsPatch({ a: 1 }, { gone: null })).toBe(true);
    expect(holdsPatch({ a: 1 }, { a: null })).toBe(false);
    expect(holdsPatch({ a: '1' }, { a: 1 })).toBe(false);
    expect(holdsPatch({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
  });
});
