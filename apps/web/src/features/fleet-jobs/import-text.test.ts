import { IMPORT_MAX_BYTES } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import {
  changesSomething,
  countsSummary,
  fileProblem,
  lineCount,
  runSummary,
} from './import-text.ts';

const counts = (extra: Partial<Record<'create' | 'update' | 'delete' | 'refused', number>>) => {
  const c = { create: 0, update: 0, delete: 0, refused: 0, ...extra };
  return { ...c, lines: c.create + c.update + c.delete + c.refused };
};

describe('an import file chosen in the browser', () => {
  it('when it is larger than the BFF takes, then it is refused before it is sent, saying the limit', () => {
    const problem = fileProblem({ name: 'fleet.jsonl', size: IMPORT_MAX_BYTES + 1 });
    expect(problem).toMatch(/^fleet\.jsonl is 64 MB: an import file may hold at most 64 MB\./);
  });

  it('when it is exactly the limit, or smaller, then it may be previewed', () => {
    expect(fileProblem({ name: 'fleet.jsonl', size: IMPORT_MAX_BYTES })).toBeUndefined();
    expect(fileProblem({ name: 'fleet.jsonl', size: 120 })).toBeUndefined();
  });

  it('when it is empty, then it is refused', () => {
    expect(fileProblem({ name: 'empty.jsonl', size: 0 })).toBe('empty.jsonl is empty.');
  });

  it('when lines are counted, then blank lines and Windows line ends are not lines', () => {
    expect(lineCount('{"id":"a"}\r\n\r\n{"id":"b"}\n   \n{"id":"c"}\n')).toBe(3);
    expect(lineCount('\n\n')).toBe(0);
  });
});

describe("a previewed import's counts", () => {
  it('when summed up, then every action is named with its count', () => {
    expect(countsSummary(counts({ create: 3, update: 1, refused: 1 }))).toBe(
      'Will create 3, update 1, delete 0, refused 1 (of 5 lines).',
    );
    expect(countsSummary(counts({ delete: 1 }))).toBe(
      'Will create 0, update 0, delete 1, refused 0 (of 1 line).',
    );
  });

  it('when every line is refused, then the import changes nothing', () => {
    expect(changesSomething(counts({ refused: 4 }))).toBe(false);
    expect(changesSomething(counts({ update: 1, refused: 4 }))).toBe(true);
  });

  it('when the import is confirmed, then the dialog restates what it does and warns of deletions', () => {
    expect(runSummary(counts({ create: 2, update: 1, delete: 1, refused: 1 }))).toEqual([
      'The hub will create 2 identities, update 1 identity and delete 1 identity, as the file says.',
      '1 line is refused and will not be applied.',
      'A deleted device or module loses its twin and its keys: this cannot be undone.',
    ]);
  });

  it('when the import only creates, then no deletion is warned of', () => {
    expect(runSummary(counts({ create: 1 }))).toEqual([
      'The hub will create 1 identity, as the file says.',
    ]);
  });

  it('when nothing would change, then the dialog says so', () => {
    expect(runSummary(counts({ refused: 2 }))).toEqual([
      'The hub will change nothing.',
      '2 lines are refused and will not be applied.',
    ]);
  });
});
