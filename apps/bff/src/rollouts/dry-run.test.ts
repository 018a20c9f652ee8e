import { describe, expect, it } from 'vitest';
import { hubQuota } from '@twinscope/hub-quotas';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { HubBudget } from '../quota/hub-budget.ts';
import { dryRun, holdsCondition } from './dry-run.ts';

describe("a rollout dry run's condition for twins that already hold the change", () => {
  it('when a change sets values and removes keys, then each leaf becomes a comparison, with text quoted', () => {
    expect(
      holdsCondition({
        tags: { site: "o'hare", wave: 2 },
        desired: { telemetry: { enabled: true, legacy: null } },
      }),
    ).toEqual({
      where:
        "tags.site = 'o\\'hare' AND tags.wave = 2 AND properties.desired.telemetry.enabled = true AND NOT IS_DEFINED(properties.desired.telemetry.legacy)",
      differs:
        "(NOT IS_DEFINED(tags.site) OR NOT IS_STRING(tags.site) OR tags.site != 'o\\'hare') OR (NOT IS_DEFINED(tags.wave) OR NOT IS_NUMBER(tags.wave) OR tags.wave != 2) OR (NOT IS_DEFINED(properties.desired.telemetry.enabled) OR NOT IS_BOOL(properties.desired.telemetry.enabled) OR properties.desired.telemetry.enabled != true) OR IS_DEFINED(properties.desired.telemetry.legacy)",
    });
  });

  it('when a key cannot be named or a value cannot be compared, then the count is unknown and says why', () => {
    expect(holdsCondition({ tags: { 'my-key': 1 } })).toEqual({
      unknown: expect.stringContaining('"my-key" cannot be named'),
    });
    expect(holdsCondition({ desired: { list: [1, 2] } })).toEqual({
      unknown: expect.stringContaining('properties.desired.list is set to an array'),
    });
  });

  it('when the hub has a tier, then the estimate is the writes over its twin update rate', async () => {
    // A fleet of 1,000 devices of which 100 already hold the change (a fake hub answers counts).
    const asked: string[] = [];
    const hub = {
      async query(sql: string) {
        asked.push(sql);
        if (sql.includes('COUNT()'))
          return { items: [{ n: sql.includes('tags.x = 1') ? 100 : 1000 }] };
        return { items: [] };
      },
    } as unknown as HubAdapter;
    const result = await dryRun(hub, new HubBudget(hubQuota('S1')), {
      filter: {},
      change: { tags: { x: 1 } },
    });
    expect(result).toMatchObject({ targets: 1000, unchanged: 100, willChange: 900 });
    // S1: 50 twin updates a second.
    expect(result.estimate).toEqual({ twinUpdatesPerSecond: 50, seconds: 18, queries: 3 });
    expect(asked).toHaveLength(3);
  });
});
