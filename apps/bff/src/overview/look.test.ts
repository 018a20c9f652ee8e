import type { JsonObject } from '@twinscope/twin';
import { describe, expect, it } from 'vitest';
import { AppError } from '../core/app-error.ts';
import { lookAtHub, type LookHub } from './look.ts';
import { overviewInterval } from './overview.ts';

describe('the overview’s look at the hub', () => {
  it('when the hub does not answer, then two charts say why, the rest are not tried, and nothing is invented', async () => {
    let asked = 0;
    const hub: LookHub = {
      query: async () => {
        asked++;
        throw new AppError('hub_unreachable', 'The IoT hub did not answer within 10 s.');
      },
      listConfigurations: async () => {
        asked++;
        return [];
      },
    };
    const snapshot = await lookAtHub(hub, {
      tag: 'site',
      driftKeys: ['firmware.version'],
      moduleDriftKeys: ['sendIntervalSeconds'],
    });
    expect(asked).toBe(2);
    expect(snapshot.devices).toBe(0);
    expect(snapshot.connection).toEqual([]);
    expect(snapshot.problems.map((p) => p.chart)).toEqual([
      'connection',
      'status',
      'tag',
      'drift firmware.version',
      'drift modules sendIntervalSeconds',
      'edge',
      'configurations',
    ]);
    expect(snapshot.problems[0]!.message).toMatch(/did not answer/);
    expect(snapshot.problems[2]!.message).toMatch(/Not counted/);
  });

  it('when a tag value cannot be written as a query literal, then its bar is shown but is not a link', async () => {
    const hub: LookHub = {
      query: async (sql) => ({
        items: sql.includes('GROUP BY tags.site')
          ? ([{ v: 'oslo', n: 2 }, { v: { floor: 3 }, n: 1 }, { n: 4 }] as JsonObject[])
          : [],
      }),
      listConfigurations: async () => [],
    };
    const { tag } = await lookAtHub(hub, { tag: 'site', driftKeys: [], moduleDriftKeys: [] });
    expect(tag.bars).toEqual([
      { label: 'no site', count: 4, where: 'NOT is_defined(tags.site)' },
      { label: 'oslo', count: 2, where: "tags.site = 'oslo'" },
      { label: '{"floor":3}', count: 1 },
    ]);
  });
});

describe('the overview’s tag chart over many values', () => {
  it('when the GROUP BY answers in pages, then every page is read: the largest group on a later page is the top bar and the rest are summed', async () => {
    const pages: Record<string, { items: JsonObject[]; continuation?: string }> = {
      first: {
        items: [
          { v: 'oslo', n: 2 },
          { v: 'lyon', n: 1 },
        ],
        continuation: 'page-2',
      },
      'page-2': { items: [{ v: 'berlin', n: 9 }] },
    };
    const asked: (string | undefined)[] = [];
    const hub: LookHub = {
      query: async (sql, options) => {
        if (!sql.includes('GROUP BY tags.site')) return { items: [] };
        asked.push(options?.continuation);
        return pages[options?.continuation ?? 'first']!;
      },
      listConfigurations: async () => [],
    };
    const { tag } = await lookAtHub(hub, { tag: 'site', driftKeys: [], moduleDriftKeys: [] });
    expect(asked).toEqual([undefined, 'page-2']);
    expect(tag.bars.map((b) => [b.label, b.count])).toEqual([
      ['berlin', 9],
      ['oslo', 2],
      ['lyon', 1],
    ]);
  });
});

describe('how often the overview looks', () => {
  it('keeps a look’s queries within its share of the tier: one S1 unit (20 a minute) at 20 % spaces five queries 75 s apart, ten units allow the floor', () => {
    expect(overviewInterval(5, 20, 0.2, 60)).toBe(75);
    expect(overviewInterval(11, 20, 0.2, 60)).toBe(165);
    expect(overviewInterval(5, 200, 0.2, 60)).toBe(60);
    // No quota (the emulator without --throttle): the floor.
    expect(overviewInterval(5, undefined, 0.2, 60)).toBe(60);
  });
});
