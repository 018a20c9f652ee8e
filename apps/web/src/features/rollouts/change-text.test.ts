import { describe, expect, it } from 'vitest';
import { changeFromText } from './change-text.ts';

describe("a fleet change's text", () => {
  it('when it is tags and desired properties, then it is the change; anything else says what is wrong', () => {
    expect(changeFromText('{"tags": {"a": 1}, "desired": {"b": null}}')).toEqual({
      ok: true,
      change: { tags: { a: 1 }, desired: { b: null } },
    });
    expect(changeFromText('{"reported": {"a": 1}}')).toEqual({
      ok: false,
      error: 'Only tags and desired can change: reported cannot.',
    });
    expect(changeFromText('{}')).toEqual({
      ok: false,
      error: 'Set tags, desired properties or both.',
    });
    expect(changeFromText('{"tags": 3}')).toEqual({
      ok: false,
      error: 'tags is an object of properties.',
    });
    expect(changeFromText('nope').ok).toBe(false);
  });
});
