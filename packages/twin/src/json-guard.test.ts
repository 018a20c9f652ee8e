import { describe, expect, it } from 'vitest';
import { jsonNestingBeyond, MAX_JSON_DEPTH } from './json-guard.ts';

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('JSON nesting guard', () => {
  it('when JSON nests up to the limit, then it passes; one level more is refused where it starts', () => {
    expect(jsonNestingBeyond(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonNestingBeyond(nested(MAX_JSON_DEPTH + 1))).toEqual({
      position: MAX_JSON_DEPTH * 5,
    });
  });

  it('when a body nests 100,000 deep, then the scan refuses it without recursing', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(jsonNestingBeyond(Buffer.from(deep))?.position).toBe(MAX_JSON_DEPTH);
  });

  it('when brackets sit inside strings, escaped quotes included, then they do not count', () => {
    const text = JSON.stringify({ note: `${'{['.repeat(100)}\\"${'"[{'.repeat(100)}` });
    expect(jsonNestingBeyond(text, 2)).toBeUndefined();
    expect(jsonNestingBeyond(Buffer.from(text), 2)).toBeUndefined();
  });

  it('when multi-byte UTF-8 surrounds the brackets, then bytes and text agree', () => {
    const text = JSON.stringify({ größe: [{ wert: 'ü{' }] });
    expect(jsonNestingBeyond(Buffer.from(text), 2)).toBeDefined();
    expect(jsonNestingBeyond(text, 2)).toBeDefined();
    expect(jsonNestingBeyond(Buffer.from(text), 3)).toBeUndefined();
    expect(jsonNestingBeyond(text, 3)).toBeUndefined();
  });
});
