import { describe, expect, it } from 'vitest';
import { AppError } from '../core/app-error.ts';
import { buildWhere } from './hub-query.ts';

const refusal = (where: string) => {
  try {
    buildWhere({ prefix: 'berlin', tags: ['site=berlin'], where });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).message;
  }
  throw new Error(`"${where}" was accepted`);
};

describe('device list filter → IoT Hub WHERE', () => {
  it('when a raw clause is well formed, then it is ANDed in parentheses with the other filters', () => {
    expect(
      buildWhere({ prefix: 'ab', tags: ['site=berlin'], where: 'WHERE tags.x IN [\'a)\', "b("]' }),
    ).toBe(
      "deviceId >= 'ab' AND deviceId < 'ac' AND tags.site = 'berlin' AND (tags.x IN ['a)', \"b(\"])",
    );
    expect(buildWhere({ where: "properties.reported.note = 'it\\'s (fine'" })).toBe(
      "(properties.reported.note = 'it\\'s (fine')",
    );
  });

  it('when a raw clause would break out of its parentheses, then it is refused and names where', () => {
    expect(refusal('1=1) OR (1=1')).toMatch(/closes a \( that was never opened, at character 4/);
    expect(refusal("tags.a = 'x') OR ('1'='1")).toMatch(/never opened/);
    expect(refusal('(tags.a = 1')).toMatch(/opens \( at character 1 and never closes it/);
    expect(refusal('tags.a IN [1, 2)')).toMatch(/closes \[ \(character 11\) with \)/);
    expect(refusal("tags.a = 'open")).toMatch(/opens a string at character 10/);
    expect(refusal("tags.a = 'escaped\\'")).toMatch(/never closes it/);
  });

  it('when a raw clause nests 2,000 parentheses, then it is refused before the hub sees it', () => {
    expect(refusal(`${'('.repeat(2000)}1=1${')'.repeat(2000)}`)).toMatch(
      /nests deeper than 20 levels at character 21/,
    );
    expect(buildWhere({ where: `${'('.repeat(20)}1=1${')'.repeat(20)}` })).toContain('1=1');
  });
});
