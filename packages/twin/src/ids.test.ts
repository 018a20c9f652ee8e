import { describe, expect, it } from 'vitest';
import { isIdentityId } from './ids.ts';

describe('identity ids', () => {
  it("when an id uses IoT Hub's alphabet, then it is accepted, dots included", () => {
    for (const id of [
      'd1',
      'berlin-b1.meter_03',
      "a:b+c%d#e*f?g!h(i),j=k@l;m$n'o",
      '.hidden',
      'a..b',
      'x.',
    ])
      expect(isIdentityId(id), id).toBe(true);
  });

  it('when an id is only dots, then it is refused: a path normaliser would rewrite it', () => {
    for (const id of ['.', '..', '...']) expect(isIdentityId(id), id).toBe(false);
  });

  it('when an id is empty, too long or has a character outside the alphabet, then it is refused', () => {
    for (const id of ['', 'a'.repeat(129), 'a/b', 'a b', 'ä', 'a\\b', 'a&b'])
      expect(isIdentityId(id), id).toBe(false);
    expect(isIdentityId('a'.repeat(128))).toBe(true);
  });
});
