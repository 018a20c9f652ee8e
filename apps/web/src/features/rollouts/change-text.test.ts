import { describe, expect, it } from 'vitest';
import { changeFromText, changeMarkers } from './change-text.ts';

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

  it("when the change breaks the twin's rules, then the editor marks the key, from the document's root", () => {
    expect(changeMarkers('{"desired": {"ok": 1}}')).toEqual([]);
    expect(changeMarkers('{"desired": {"a.b": 1}}')).toEqual([
      {
        location: ['desired', 'a.b'],
        message: expect.stringMatching(/^properties\.desired\["a\.b"\]: /),
      },
    ]);
    expect(changeMarkers('{"tags": {"$x": 1}}')[0]?.location).toEqual(['tags', '$x']);
  });

  it('when it is not JSON or not a change, then the mark is at the start or where the JSON breaks', () => {
    expect(changeMarkers('{"reported": {}}')).toEqual([
      {
        message: 'Only tags and desired can change, or a method be called: reported cannot.',
        offset: 0,
      },
    ]);
    expect(changeMarkers('{"a": 1,}')).toEqual([
      {
        message: expect.stringMatching(/^The change is not valid JSON/),
        offset: expect.any(Number),
      },
    ]);
  });
});
