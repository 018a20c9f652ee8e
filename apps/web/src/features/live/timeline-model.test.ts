import { describe, expect, it } from 'vitest';
import type { AuditEntry, LiveEvent, TimelineEntry } from '@twinscope/contract';
import {
  countByKind,
  detailText,
  entryOfLiveEvent,
  mergeEntries,
  visibleEntries,
} from './timeline-model.ts';

const audit = (result: AuditEntry['result']): AuditEntry => ({
  id: '7f1c1e42-9c1e-4a7e-9a53-5d3b1c0c2a11',
  at: '2026-12-02T10:00:01.000Z',
  actor: { id: 'u1', name: 'Ada Operator' },
  action: 'method.invoke',
  target: { deviceId: 'dev-1' },
  change: { methodName: 'reboot' },
  result,
  ...(result === 'succeeded' ? { response: { status: 200 } } : {}),
});

const twin = (origin: 'console' | 'hub'): LiveEvent => ({
  type: 'twin',
  deviceId: 'dev-1',
  version: 9,
  sections: ['reported'],
  origin,
  twin: {
    deviceId: 'dev-1',
    etag: 'e',
    version: 9,
    tags: {},
    properties: { desired: {}, reported: {} },
  } as never,
});

describe("a device's timeline, merged from what was read back and what arrives live", () => {
  it('when live events arrive, each becomes a line of its device only; a console twin write is left to its activity line', () => {
    const now = () => '2026-12-02T10:00:05.000Z';
    expect(entryOfLiveEvent(twin('hub'), 'dev-1', now)).toMatchObject({
      id: 'twin:dev-1:9',
      kind: 'twin',
      title: 'Changed reported properties (version 9)',
      by: 'the device',
      at: '2026-12-02T10:00:05.000Z',
    });
    expect(entryOfLiveEvent(twin('console'), 'dev-1', now)).toBeUndefined();
    expect(entryOfLiveEvent(twin('hub'), 'dev-2', now)).toBeUndefined();
    expect(
      entryOfLiveEvent({ type: 'activity', entry: audit('succeeded') }, 'dev-1', now),
    ).toMatchObject({ kind: 'method', title: 'Invoked reboot: status 200', by: 'Ada Operator' });
    expect(
      entryOfLiveEvent(
        {
          type: 'connection',
          deviceId: 'dev-1',
          moduleId: 'edge',
          state: 'Disconnected',
          at: now(),
        },
        'dev-1',
      ),
    ).toMatchObject({ kind: 'connection', moduleId: 'edge', title: 'Disconnected' });
    expect(
      entryOfLiveEvent({ type: 'feed', feed: { source: 'polling', healthy: true } }, 'dev-1'),
    ).toBeUndefined();
  });

  it("when an activity's outcome follows its attempt, and a line read back was heard live, then each shows once, newest first, the read-back twin change keeping its patch", () => {
    const attempt = entryOfLiveEvent({ type: 'activity', entry: audit('unknown') }, 'dev-1')!;
    const outcome = entryOfLiveEvent({ type: 'activity', entry: audit('succeeded') }, 'dev-1')!;
    const readBack: TimelineEntry = {
      id: 'twin:dev-1:9',
      kind: 'twin',
      at: '2026-12-02T10:00:00.000Z',
      deviceId: 'dev-1',
      title: 'Changed reported properties (version 9)',
      by: 'the device',
      detail: { properties: { reported: { mode: 'eco' } } },
    };
    const heard = entryOfLiveEvent(twin('hub'), 'dev-1', () => '2026-12-02T10:00:02.000Z')!;
    const merged = mergeEntries([readBack], [attempt, heard, outcome]);
    expect(merged.map((e) => e.id)).toEqual([`audit:${audit('unknown').id}`, 'twin:dev-1:9']);
    expect(merged[0]!.result).toBe('succeeded');
    expect(merged[1]!.detail).toEqual({ properties: { reported: { mode: 'eco' } } });
    expect(merged[1]!.at).toBe('2026-12-02T10:00:00.000Z');
  });

  it('when kinds or text are chosen, then only matching lines are shown', () => {
    const lines = mergeEntries([
      entryOfLiveEvent({ type: 'activity', entry: audit('succeeded') }, 'dev-1')!,
      entryOfLiveEvent(twin('hub'), 'dev-1')!,
    ]);
    expect(visibleEntries(lines, new Set(['method']), '').map((e) => e.kind)).toEqual(['method']);
    expect(visibleEntries(lines, new Set(['method', 'twin']), 'ada').map((e) => e.kind)).toEqual([
      'method',
    ]);
    expect(visibleEntries(lines, new Set(['telemetry']), '')).toEqual([]);
  });
});

describe("a timeline entry's counts and details", () => {
  const entry = (id: string, changes: Partial<TimelineEntry>): TimelineEntry => ({
    id,
    kind: 'twin',
    at: '2026-12-02T10:00:00.000Z',
    deviceId: 'dev-1',
    title: 'Twin changed',
    ...changes,
  });

  it('when entries are counted, then each kind has its number and absent kinds none', () => {
    const counts = countByKind([entry('a', {}), entry('b', { kind: 'method' }), entry('c', {})]);
    expect(counts.get('twin')).toBe(2);
    expect(counts.get('method')).toBe(1);
    expect(counts.has('telemetry')).toBe(false);
  });

  it('when an entry has a body or a record, then that is its detail; an empty record is none', () => {
    expect(detailText(entry('a', { detail: { desired: { fan: 1 } } }))).toBe(
      JSON.stringify({ desired: { fan: 1 } }, null, 2),
    );
    expect(detailText(entry('b', { detail: {} }))).toBeUndefined();
    expect(detailText(entry('c', {}))).toBeUndefined();
    expect(
      detailText(
        entry('d', {
          kind: 'telemetry',
          telemetry: {
            type: 'telemetry',
            deviceId: 'dev-1',
            enqueuedTime: '2026-12-02T10:00:00.000Z',
            position: '0:1',
            body: { kind: 'text', text: 'hello' },
            bytes: 5,
            properties: {},
            system: {},
          },
        }),
      ),
    ).toBe('hello');
  });
});
