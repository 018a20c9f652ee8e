import { describe, expect, it } from 'vitest';
import { contentFromText, deviceListPath, recordFromLines, targetsPath } from './form-model.ts';

describe("the configuration form's model", () => {
  it('when labels and metrics are written as lines, then they become records, and a broken line says which', () => {
    expect(recordFromLines('owner = eu-ops\n\nstage=canary', '=')).toEqual({
      ok: true,
      value: { owner: 'eu-ops', stage: 'canary' },
    });
    expect(recordFromLines("onV2: SELECT deviceId FROM devices WHERE tags.v = '2'", ':')).toEqual({
      ok: true,
      value: { onV2: "SELECT deviceId FROM devices WHERE tags.v = '2'" },
    });
    expect(recordFromLines('owner', '=')).toEqual({
      ok: false,
      error: 'Line 1 should read name = value.',
    });
    expect(recordFromLines('a=1\na=2', '=')).toEqual({ ok: false, error: 'a appears twice.' });
  });

  it('when content is not a JSON object, then the form says so before anything is sent', () => {
    expect(contentFromText('{"properties.desired.x": 1}')).toEqual({
      ok: true,
      value: { 'properties.desired.x': 1 },
    });
    expect(contentFromText('[1]').ok).toBe(false);
    expect(contentFromText('{').ok).toBe(false);
  });

  it('when a metric or a target condition is a device query, then it opens the device list filtered by its WHERE clause', () => {
    expect(deviceListPath("SELECT deviceId FROM devices WHERE tags.site = 'lyon'")).toBe(
      `/devices?where=${encodeURIComponent("tags.site = 'lyon'")}`,
    );
    expect(
      deviceListPath("SELECT deviceId, moduleId FROM devices.modules WHERE moduleId = 'x'"),
    ).toBeUndefined();
    expect(targetsPath({ kind: 'device', targetCondition: '*' })).toBe('/devices');
    expect(
      targetsPath({ kind: 'module', targetCondition: 'FROM devices.modules WHERE x = 1' }),
    ).toBeUndefined();
  });
});
