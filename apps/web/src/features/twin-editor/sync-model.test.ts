import { describe, expect, it } from 'vitest';
import { syncRows } from './sync-model.ts';

const meta = (entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).map(([k, at]) => [k, { $lastUpdated: at }]));

describe('desired vs reported, key by key', () => {
  it('when reported echoes desired, the key is in sync; newer desired is pending; never reported is missing', () => {
    const desired = {
      mode: 'eco',
      setpoint: { celsius: 21 },
      interval: 30,
      fresh: true,
      $version: 4,
      $metadata: meta({
        mode: '2026-11-26T10:00:00Z',
        setpoint: '2026-11-26T10:00:00Z',
        interval: '2026-11-26T12:00:00Z',
        fresh: '2026-11-26T12:00:00Z',
      }),
    };
    const reported = {
      mode: 'eco',
      setpoint: { celsius: 21 },
      interval: 15,
      $version: 9,
      $metadata: meta({
        mode: '2026-11-26T10:00:01Z',
        setpoint: '2026-11-26T10:00:01Z',
        interval: '2026-11-26T11:00:00Z',
      }),
    };
    expect(syncRows(desired, reported).map((r) => [r.key, r.state])).toEqual([
      ['mode', 'in-sync'],
      ['setpoint', 'in-sync'],
      ['interval', 'pending'],
      ['fresh', 'missing'],
    ]);
    expect(syncRows(desired, reported)[0]?.reportedAt).toBe('2026-11-26T10:00:01Z');
  });

  it('when the module reported another value after the desired change, the key differs', () => {
    const rows = syncRows(
      { mode: 'boost', $metadata: meta({ mode: '2026-11-26T10:00:00Z' }) },
      { mode: 'eco', $metadata: meta({ mode: '2026-11-26T10:05:00Z' }) },
    );
    expect(rows[0]?.state).toBe('differs');
  });
});
