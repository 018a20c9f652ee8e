import { describe, expect, it } from 'vitest';
import {
  classifyInput,
  columnsFromText,
  searchFromView,
  tagValue,
  viewFromSearch,
  withInput,
  withoutFilter,
  type ListView,
} from './filter-model.ts';

describe('device list filter box', () => {
  it('when an operator types path=value, then it becomes a tag chip; a bare word is a prefix', () => {
    expect(classifyInput('site=berlin')).toEqual({ kind: 'tag', value: 'site=berlin' });
    expect(classifyInput('tags.owner.team = na-ops')).toEqual({
      kind: 'tag',
      value: 'owner.team=na-ops',
    });
    expect(classifyInput('berlin-b1')).toEqual({ kind: 'prefix', value: 'berlin-b1' });
    expect(classifyInput('   ')).toBeUndefined();
  });

  it('when the text looks like a query, then it is a raw WHERE clause', () => {
    expect(classifyInput("WHERE tags.site = 'lyon'")).toEqual({
      kind: 'where',
      value: "tags.site = 'lyon'",
    });
    expect(classifyInput("properties.reported.firmware.version < '2.0'")?.kind).toBe('where');
    expect(classifyInput("tags.site IN ['a','b']")?.kind).toBe('where');
    expect(classifyInput('IS_DEFINED(tags.owner)')?.kind).toBe('where');
  });

  it('when a view goes to the URL and back, then it is the same view (deep links)', () => {
    const view = viewFromSearch(
      new URLSearchParams(
        'source=modules&tag=site%3Dberlin&tag=role%3Dhvac&prefix=b&where=version%20%3E%201&pageSize=250&cols=site,building',
      ),
    );
    expect(view).toEqual({
      source: 'modules',
      filter: {
        pageSize: 250,
        tags: ['site=berlin', 'role=hvac'],
        prefix: 'b',
        where: 'version > 1',
      },
      columns: ['site', 'building'],
    });
    expect(viewFromSearch(new URLSearchParams(searchFromView(view).slice(1)))).toEqual(view);
    expect(viewFromSearch(new URLSearchParams('pageSize=7')).filter.pageSize).toBe(100);
    expect(viewFromSearch(new URLSearchParams('source=jobs')).source).toBe('devices');
  });

  it('when a column names a nested tag, then its value is read from the path', () => {
    expect(tagValue({ owner: { team: 'ops' }, n: 3 }, 'owner.team')).toBe('ops');
    expect(tagValue({ n: 3 }, 'n')).toBe('3');
    expect(tagValue({}, 'missing.path')).toBe('');
  });

  it('when a filter is added, then a tag joins the chips once and a prefix or clause replaces its own', () => {
    const view: ListView = {
      source: 'devices',
      filter: { pageSize: 100, tags: ['site=berlin'], prefix: 'a' },
      columns: ['site'],
    };
    expect(withInput(view, { kind: 'tag', value: 'role=hvac' }).filter.tags).toEqual([
      'site=berlin',
      'role=hvac',
    ]);
    expect(withInput(view, { kind: 'tag', value: 'site=berlin' }).filter.tags).toEqual([
      'site=berlin',
    ]);
    expect(withInput(view, { kind: 'prefix', value: 'b' }).filter.prefix).toBe('b');
    expect(withInput(view, { kind: 'where', value: 'x > 1' }).filter).toEqual({
      pageSize: 100,
      tags: ['site=berlin'],
      prefix: 'a',
      where: 'x > 1',
    });
    expect(view.filter.tags).toEqual(['site=berlin']);
  });

  it('when a chip is dismissed, then only that filter goes', () => {
    const view: ListView = {
      source: 'devices',
      filter: { pageSize: 100, tags: ['site=berlin', 'role=hvac'], prefix: 'a', where: 'x > 1' },
      columns: [],
    };
    expect(withoutFilter(view, 'tag', 'site=berlin').filter.tags).toEqual(['role=hvac']);
    expect(withoutFilter(view, 'prefix').filter).toEqual({
      pageSize: 100,
      tags: ['site=berlin', 'role=hvac'],
      where: 'x > 1',
    });
    expect('where' in withoutFilter(view, 'where').filter).toBe(false);
  });

  it('when columns are typed, then they are the comma-separated paths without blanks', () => {
    expect(columnsFromText(' site, owner.team ,,')).toEqual(['site', 'owner.team']);
    expect(columnsFromText('')).toEqual([]);
  });
});
