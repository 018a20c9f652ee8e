import { describe, expect, it } from 'vitest';
import { checkInitialTwin, describeProblem, initialTwinText } from './initial-twin.ts';

describe("an enrollment's initial twin as the editor holds it", () => {
  it('when an initial twin is shown and read back, then it is the twin document shape and the same twin', () => {
    const twin = { tags: { site: 'lyon' }, desired: { telemetry: { intervalSeconds: 30 } } };
    const text = initialTwinText(twin);
    expect(JSON.parse(text)).toEqual({
      tags: { site: 'lyon' },
      properties: { desired: { telemetry: { intervalSeconds: 30 } } },
    });
    expect(checkInitialTwin(text)).toEqual({ ok: true, twin });
  });

  it('when sections are left out or the text is empty, then they are empty', () => {
    expect(checkInitialTwin('{"tags": {"a": 1}}')).toEqual({
      ok: true,
      twin: { tags: { a: 1 }, desired: {} },
    });
    expect(checkInitialTwin('  ')).toEqual({ ok: true, twin: { tags: {}, desired: {} } });
  });

  it('when the text is not JSON, then the problem says so and where', () => {
    const check = checkInitialTwin('{"tags": {');
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems[0]!.message).toMatch(/^The initial twin is not valid JSON/);
  });

  it('when the document holds more than tags and desired, then each extra key is pointed at', () => {
    const check = checkInitialTwin(
      JSON.stringify({ tags: {}, deviceId: 'x', properties: { desired: {}, reported: { a: 1 } } }),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.map((p) => p.location)).toEqual([
      ['deviceId'],
      ['properties', 'reported'],
    ]);
    expect(check.problems[1]!.message).toMatch(/Reported properties come from the device/);
  });

  it("when a key or a value breaks IoT Hub's twin rules, then the violation names the place in the document", () => {
    const check = checkInitialTwin(
      JSON.stringify({ tags: { 'bad.key': 1 }, properties: { desired: { gone: null } } }),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.map((p) => p.location)).toEqual([
      ['tags', 'bad.key'],
      ['properties', 'desired', 'gone'],
    ]);
    expect(describeProblem(check.problems[1]!)).toMatch(/^properties\.desired\.gone: null/);
  });

  it('when tags grow past 8 KB, then the size rule refuses them', () => {
    const check = checkInitialTwin(
      JSON.stringify({
        tags: { big: 'x'.repeat(4000), more: 'y'.repeat(4000), most: 'z'.repeat(400) },
      }),
    );
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems[0]!.message).toMatch(/tags would be \d+ bytes/);
  });
});
