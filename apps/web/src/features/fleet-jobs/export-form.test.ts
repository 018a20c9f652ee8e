import { describe, expect, it } from 'vitest';
import { exportRequest } from './export-form.ts';

describe('the export form', () => {
  it('when a condition is typed, then it is sent trimmed, with or without keys as ticked', () => {
    expect(exportRequest("  tags.site = 'lyon' ", false)).toEqual({
      filter: "tags.site = 'lyon'",
      includeKeys: false,
    });
    expect(exportRequest("tags.site = 'lyon'", true)).toMatchObject({ includeKeys: true });
  });

  it('when the condition starts with WHERE, as in the device list, then the WHERE is dropped', () => {
    expect(exportRequest("WHERE tags.site = 'lyon'", false).filter).toBe("tags.site = 'lyon'");
    expect(exportRequest('where  capabilities.iotEdge = true', false).filter).toBe(
      'capabilities.iotEdge = true',
    );
  });

  it('when nothing is typed, then the whole fleet is exported', () => {
    expect(exportRequest('   ', false)).toEqual({ includeKeys: false });
    expect(exportRequest('WHERE ', false)).toEqual({ includeKeys: false });
  });
});
