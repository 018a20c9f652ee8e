import { describe, expect, it } from 'vitest';
import type { EventSource, ReadStart, RoutedChange } from '../adapters/event-hubs.ts';
import { AuditTrail } from '../audit/audit-trail.ts';
import { createLogger } from '../log.ts';
import { TimelineService } from './timeline-service.ts';
import { openDatabase } from '../adapters/store/open-store.ts';
import { freshPgliteDir } from '../test/pglite-template.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');

/** An endpoint of two partitions; reads are recorded and can be held open. */
function fakeEndpoint(options: { complete?: boolean; hold?: Promise<void> } = {}) {
  const reads: { partition: number; start: ReadStart }[] = [];
  const telemetry = (
    partition: number,
    sequenceNumber: number,
    deviceId: string,
  ): RoutedChange => ({
    position: { partition, sequenceNumber },
    source: 'Telemetry',
    opType: '',
    deviceId,
    sections: [],
    message: {
      body: Buffer.from(`{"n":${sequenceNumber}}`),
      enqueuedTime: NOW - 60_000 + sequenceNumber,
      properties: {},
      system: {},
    },
  });
  const source: EventSource = {
    subscribeLatest: () => ({ close: async () => undefined }),
    partitionCount: async () => 2,
    // Partition 1 has had nothing since an hour before NOW - 30 min.
    partition: async (p) => ({
      begin: 0,
      last: 10,
      isEmpty: false,
      lastEnqueuedAt: p === 0 ? NOW - 1000 : NOW - 90 * 60_000,
    }),
    read: async (partition, start) => {
      reads.push({ partition, start });
      await options.hold;
      return {
        changes: [telemetry(partition, 1, 'dev-1'), telemetry(partition, 2, 'someone-else')],
        complete: options.complete ?? true,
      };
    },
    close: async () => undefined,
  };
  return { source, reads };
}

const trail = async () =>
  new AuditTrail(
    (await openDatabase({ dir: await freshPgliteDir() })).db,
    createLogger('error', () => undefined),
  );

describe('a device timeline, read back from the endpoint', () => {
  it('when a partition has had nothing since the start, then it is not read (a read would wait for events that never come); other devices are left out', async () => {
    const { source, reads } = fakeEndpoint();
    const service = new TimelineService(await trail(), source, () => undefined);
    const since = new Date(NOW - 30 * 60_000).toISOString();
    const result = await service.read('dev-1', { since }, 'riley', NOW);
    expect(reads).toEqual([{ partition: 0, start: { enqueuedOn: NOW - 30 * 60_000 } }]);
    expect(result.entries.map((e) => [e.kind, e.deviceId])).toEqual([['telemetry', 'dev-1']]);
    expect(result).toMatchObject({ complete: true, notes: [], since });
  });

  it('when the endpoint holds more than one read takes, then the timeline says it is incomplete and why', async () => {
    const { source } = fakeEndpoint({ complete: false });
    const result = await new TimelineService(await trail(), source, () => undefined).read(
      'dev-1',
      {},
      'riley',
      NOW,
    );
    expect(result.complete).toBe(false);
    expect(result.notes.join(' ')).toMatch(/more since then than one timeline reads/);
  });

  it("when one person's read-backs are in flight, then that person waits their turn while others' are read, up to the process's limit", async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { source } = fakeEndpoint({ hold });
    const service = new TimelineService(await trail(), source, () => undefined);
    // One person looping week-long reads holds one read-back, not everyone's.
    const looping = service.read('dev-1', {}, 'riley', NOW);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(service.read('dev-1', {}, 'riley', NOW)).rejects.toMatchObject({
      code: 'throttled',
      message: expect.stringMatching(/^Another timeline of yours is being read back/),
      extras: { retryAfterSeconds: 5 },
    });
    const others = ['oscar', 'ada', 'nico'].map((person) => service.read('dev-1', {}, person, NOW));
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Four at once in all: a fifth person is told the process is busy.
    await expect(service.read('dev-1', {}, 'eve', NOW)).rejects.toMatchObject({
      code: 'throttled',
      message: expect.stringMatching(/^4 timelines are being read back .* for other people/),
    });
    release();
    await Promise.all([looping, ...others]);
    await expect(service.read('dev-1', {}, 'riley', NOW)).resolves.toMatchObject({
      complete: true,
    });
  });

  it('when there is no endpoint, then the timeline holds what was done from Twinscope and says what it cannot show', async () => {
    const audit = await trail();
    const record = await audit.begin({
      actor: { id: 'a', name: 'Ada' },
      action: 'method.invoke',
      target: { deviceId: 'dev-1', moduleId: 'edge' },
      change: { methodName: 'reboot' },
    });
    await record.end({ result: 'succeeded', response: { status: 200 } });
    const result = await new TimelineService(audit, undefined, () => undefined).read(
      'dev-1',
      {},
      'ada',
      Date.now(),
    );
    expect(result.entries).toMatchObject([
      { kind: 'method', moduleId: 'edge', title: 'Invoked reboot: status 200', by: 'Ada' },
    ]);
    expect(result.notes.join(' ')).toMatch(/endpoint is not configured/);
    const otherModule = await new TimelineService(audit, undefined, () => undefined).read(
      'dev-1',
      { moduleId: 'other' },
      'ada',
      Date.now(),
    );
    expect(otherModule.entries).toEqual([]);
  });
});
