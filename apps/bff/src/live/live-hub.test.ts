import type { FeedStatus, LiveEvent, Twin } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import type { EventSource, RoutedChange } from '../adapters/event-hubs.ts';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { createLogger } from '../log.ts';
import type { CatchUp } from './catch-up.ts';
import { LiveHub } from './live-hub.ts';
import type { Poller } from './poller.ts';

const device = 'oslo-lab-thermostat-15';

function twinAt(version: number): Twin {
  return {
    deviceId: device,
    etag: `etag-${version}`,
    version,
    tags: { bump: version },
    properties: { desired: {}, reported: {} },
  } as Twin;
}

/**
 * A live hub over fakes: an endpoint whose batches the test delivers by hand, a hub whose
 * twin is at the version the test says, a broker that keeps what it is given.
 */
function liveHubOverFakes(echoTimeoutMs = 200) {
  let version = 1;
  const published: LiveEvent[] = [];
  const feeds: FeedStatus[] = [];
  let deliver: ((changes: RoutedChange[]) => Promise<void>) | undefined;
  const source = {
    subscribeLatest(handlers: Parameters<EventSource['subscribeLatest']>[0]) {
      deliver = (changes) => handlers.batch(0, changes, changes[0]?.position.sequenceNumber);
      return { close: async () => {} };
    },
    partitionCount: async () => 1,
    partition: async () => ({ begin: 0, last: 0, isEmpty: true, lastEnqueuedAt: 0 }),
    close: async () => {},
  } as unknown as EventSource;
  const catchUp = {
    isCovered: () => true,
    cover: () => {},
    setPartitionCount: () => {},
  } as unknown as CatchUp;
  const hub = { getTwin: async () => twinAt(version) } as unknown as HubAdapter;
  const live = new LiveHub({
    hub,
    broker: {
      publish: (event: LiveEvent) => void published.push(event),
      feed: (status: FeedStatus) => void feeds.push(status),
      watchedTwins: () => [{ deviceId: device }],
      isWatched: () => true,
      wantsTelemetry: () => false,
      publishTelemetry: () => {},
      publishRollout: () => {},
      publishFleetChanges: () => {},
    },
    logger: createLogger('error', () => undefined),
    poller: {
      saw: () => {},
      round: async () => ({ queries: 0, observations: [] }),
    } as unknown as Poller,
    pollIntervalMs: 60_000,
    endpoint: { source, catchUp, echoTimeoutMs, staleAfterMs: 60_000 },
  });
  live.start();
  return {
    live,
    published,
    feeds,
    setVersion: (v: number) => (version = v),
    change: (v: number, sequenceNumber: number): RoutedChange => ({
      position: { partition: 0, sequenceNumber },
      source: 'twinChangeEvents',
      opType: 'updateTwin',
      deviceId: device,
      version: v,
      sections: ['tags'],
    }),
    deliver: (changes: RoutedChange[]) => deliver!(changes),
  };
}

const twinEvents = (events: LiveEvent[]) =>
  events.flatMap((e) => (e.type === 'twin' ? [{ version: e.twin.version, origin: e.origin }] : []));

describe('the live hub and the console’s own writes', () => {
  it('when the hub’s notice of a console write arrives before the hub’s answer, then the tabs get the change once, as the console’s, and the feed stays live', async () => {
    const fakes = liveHubOverFakes();
    try {
      // The partitions are counted, and the one partition reads: the endpoint is live.
      await new Promise((resolve) => setTimeout(resolve, 10));
      await fakes.deliver([]);
      expect(fakes.feeds.at(-1)).toEqual({ source: 'event-hubs', healthy: true });

      const settled = fakes.live.twinWriting(device, undefined);
      fakes.setVersion(2);
      // The endpoint is quicker than the answer: its batch waits for the write to settle.
      const batch = fakes.deliver([fakes.change(2, 7)]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(twinEvents(fakes.published)).toEqual([]);

      fakes.live.twinWritten(twinAt(2), ['tags']);
      settled();
      await batch;
      expect(twinEvents(fakes.published)).toEqual([{ version: 2, origin: 'console' }]);

      // The echo was counted: past the echo timeout the endpoint is still trusted.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await fakes.deliver([]);
      expect(fakes.feeds.at(-1)).toEqual({ source: 'event-hubs', healthy: true });

      // Someone else's change later is the hub's.
      fakes.setVersion(3);
      await fakes.deliver([fakes.change(3, 8)]);
      expect(twinEvents(fakes.published)).toEqual([
        { version: 2, origin: 'console' },
        { version: 3, origin: 'hub' },
      ]);
    } finally {
      fakes.live.stop();
    }
  });

  it('when a console write never gets its answer, then the waiting change goes out after the echo timeout rather than holding the feed', async () => {
    const fakes = liveHubOverFakes(100);
    try {
      fakes.live.twinWriting(device, undefined);
      fakes.setVersion(2);
      await fakes.deliver([fakes.change(2, 7)]);
      expect(twinEvents(fakes.published)).toEqual([{ version: 2, origin: 'hub' }]);
    } finally {
      fakes.live.stop();
    }
  });
});
