import { describe, expect, it } from 'vitest';
import { describeFilter, duration } from './preview-text.ts';

describe('a fleet change preview in words', () => {
  it('when the list is filtered, then each filter is named; unfiltered is every device', () => {
    expect(
      describeFilter({ prefix: 'b', tags: ['site=berlin', 'role=hvac'], where: 'x > 1' }),
    ).toBe('ids starting with b, tag site=berlin, tag role=hvac, WHERE x > 1');
    expect(describeFilter({})).toBe('every device');
  });

  it('when writes take a while, then seconds become minutes past two and hours past two', () => {
    expect(duration(119)).toBe('119 s');
    expect(duration(120)).toBe('2 min');
    expect(duration(121)).toBe('3 min');
    expect(duration(7200)).toBe('2.0 h');
  });
});
