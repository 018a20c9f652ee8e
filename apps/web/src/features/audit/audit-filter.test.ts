import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '@twinscope/contract';
import { filterFromSearch, matchesFilter, mergeRecords, searchFromFilter } from './audit-filter.ts';

const entry = (id: string, at: string, result: AuditEntry['result'] = 'succeeded'): AuditEntry => ({
  id,
  at,
  actor: { id: 'u-7', name: 'Ada Operator' },
  action: 'twin.patch',
  target: { deviceId: 'dev-1' },
  change: {},
  result,
});

describe("the fleet audit page's filter", () => {
  it('when the URL carries a filter, then the page reads it back exactly (a deep link)', () => {
    const filter = { actor: 'ada', deviceId: 'dev 1', kind: 'twin', from: '2026-12-01T00:00:00Z' };
    expect(filterFromSearch(new URLSearchParams(searchFromFilter(filter)))).toEqual(filter);
    expect(searchFromFilter({})).toBe('');
  });

  it('when a record is heard live, then it shows only if the filter would have found it', () => {
    const record = entry('a', '2026-12-02T10:00:00.000Z');
    expect(matchesFilter(record, { actor: 'ADA' })).toBe(true);
    expect(matchesFilter(record, { actor: 'u-7' })).toBe(true);
    expect(matchesFilter(record, { actor: 'bob' })).toBe(false);
    expect(matchesFilter(record, { kind: 'method' })).toBe(false);
    expect(matchesFilter(record, { deviceId: 'dev-2' })).toBe(false);
    expect(matchesFilter(record, { from: '2026-12-02T11:00:00Z' })).toBe(false);
    expect(matchesFilter(record, { to: '2026-12-02T10:00:00Z' })).toBe(false);
  });

  it("when a record's outcome arrives live after its attempt was paged in, then it shows once, as it ended", () => {
    const paged = [
      entry('a', '2026-12-02T10:00:00.000Z', 'unknown'),
      entry('b', '2026-12-02T09:00:00.000Z'),
    ];
    const live = [
      entry('a', '2026-12-02T10:00:00.000Z', 'failed'),
      entry('c', '2026-12-02T11:00:00.000Z'),
    ];
    expect(mergeRecords(live, paged).map((e) => [e.id, e.result])).toEqual([
      ['c', 'succeeded'],
      ['a', 'failed'],
      ['b', 'succeeded'],
    ]);
  });
});
