import type { TelemetryEvent } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { byEnqueued, exportName, KEPT, matches } from './telemetry-list.ts';

const message = (position: string, at: string, changes: Partial<TelemetryEvent> = {}) =>
  ({
    type: 'telemetry',
    deviceId: 'd1',
    enqueuedTime: at,
    position,
    body: { kind: 'json', value: { temperature: 21.5 } },
    bytes: 20,
    properties: {},
    system: {},
    ...changes,
  }) satisfies TelemetryEvent;

describe('the telemetry on screen', () => {
  it('when a filter is typed, then it finds body text, the module and name=value properties, case aside', () => {
    const m = message('0:1', '2025-06-01T12:00:00Z', {
      moduleId: 'Sensor',
      properties: { alert: 'high' },
      system: { 'iothub-outputname': 'out1' },
    });
    expect(matches(m, '')).toBe(true);
    expect(matches(m, 'TEMPERATURE')).toBe(true);
    expect(matches(m, 'sensor')).toBe(true);
    expect(matches(m, 'alert=high')).toBe(true);
    expect(matches(m, 'iothub-outputname=out1')).toBe(true);
    expect(matches(m, 'alert=low')).toBe(false);
  });

  it('when live and read-back messages meet, then each shows once, newest first', () => {
    const a = message('0:1', '2025-06-01T12:00:00Z');
    const b = message('0:2', '2025-06-01T12:00:05Z');
    const c = message('1:1', '2025-06-01T12:00:03Z');
    expect(byEnqueued(KEPT, [b, a], [a, c]).map((m) => m.position)).toEqual(['0:2', '1:1', '0:1']);
  });

  it('when more arrive than are kept, then the oldest go', () => {
    const many = Array.from({ length: KEPT + 3 }, (_, i) =>
      message(`0:${i}`, new Date(Date.UTC(2025, 5, 1, 12, 0, i)).toISOString()),
    );
    const kept = byEnqueued(KEPT, many);
    expect(kept).toHaveLength(KEPT);
    expect(kept[0]?.position).toBe(`0:${KEPT + 2}`);
  });

  it('when exported, then the file is named after what is shown', () => {
    expect(exportName({ deviceId: 'd1' })).toBe('telemetry-d1');
    expect(exportName({ deviceId: 'd1', moduleId: 'm1' })).toBe('telemetry-d1-m1');
    expect(exportName(undefined)).toBe('telemetry-devices');
  });
});
