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
      error: 'Only tags and desired can change, or a method be called: reported cannot.',
    });
    expect(changeFromText('{}')).toEqual({
      ok: false,
      error: 'Set tags, desired properties or both, or call a method.',
    });
    expect(changeFromText('{"tags": 3}')).toEqual({
      ok: false,
      error: 'tags is an object of properties.',
    });
    expect(changeFromText('nope').ok).toBe(false);
    // A direct method call, with the hub's defaults; never mixed with a twin change.
    expect(changeFromText('{"method": {"methodName": "reboot"}}')).toEqual({
      ok: true,
      change: {
        method: {
          methodName: 'reboot',
          payload: null,
          responseTimeoutInSeconds: 30,
          connectTimeoutInSeconds: 0,
        },
      },
    });
    expect(changeFromText('{"method": {"methodName": "a b"}}')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^The method call: Method names are printable ASCII/),
    });
    expect(changeFromText('{"method": {"methodName": "x"}, "tags": {}}').ok).toBe(false);
  });
});
